from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from messaging.text import GSM7, UCS2, analyse, clean, compose, estimate_cost, segment_count


def test_plain_text_fits_160_characters_in_one_gsm7_segment():
    assert segment_count("a" * 160) == (GSM7, 1)


def test_a_161_character_text_needs_two_segments_of_153():
    assert segment_count("a" * 161) == (GSM7, 2)
    assert segment_count("a" * 306) == (GSM7, 2)
    assert segment_count("a" * 307) == (GSM7, 3)


def test_extension_characters_cost_two_septets():
    assert segment_count("€" * 80) == (GSM7, 1)
    assert segment_count("€" * 81) == (GSM7, 2)


def test_an_escape_pair_is_never_split_across_segments():
    # 152 plain septets then "€" (2 septets) would straddle the first segment boundary at 153.
    assert segment_count("a" * 152 + "€" + "a" * 10) == (GSM7, 2)
    assert segment_count("a" * 152 + "€" + "a" * 152) == (GSM7, 3)


def test_one_emoji_turns_the_whole_text_into_ucs2():
    assert segment_count("a" * 69 + "é") == (GSM7, 1)
    assert segment_count("a" * 69 + "ł") == (UCS2, 1)
    assert segment_count("a" * 70 + "ł") == (UCS2, 2)
    # An emoji is two UTF-16 code units.
    assert segment_count("a" * 68 + "🙂") == (UCS2, 1)
    assert segment_count("a" * 69 + "🙂") == (UCS2, 2)


def test_smart_quotes_dashes_and_odd_spaces_are_replaced_so_the_text_stays_gsm7():
    text = clean("“Vote FOR composite 3” – it’s today…\u00a0see you\u200b there")
    assert text == '"Vote FOR composite 3" - it\'s today... see you there'
    assert analyse(text).encoding == GSM7


def test_a_marketing_text_names_the_sender_and_ends_with_the_opt_out_line(settings):
    settings.SMS_SENDER_NAME = "Free Movement"
    info = compose("Vote FOR composite 3 today", marketing=True)
    assert info.text == "Free Movement: Vote FOR composite 3 today\nReply STOP to opt out"


def test_a_marketing_text_that_already_names_the_sender_is_not_named_twice(settings):
    settings.SMS_SENDER_NAME = "Free Movement"
    info = compose("Free Movement: thanks for your support", marketing=True)
    assert info.text.count("Free Movement") == 1


def test_a_service_text_is_sent_as_written(settings):
    settings.SMS_SENDER_NAME = "Free Movement"
    assert compose("Your shift starts at 9", marketing=False).text == "Your shift starts at 9"


def test_an_empty_body_is_refused():
    with pytest.raises(ValidationError) as raised:
        compose("  \u200b ", marketing=False)
    assert "body" in raised.value.message_dict


def test_a_body_over_ten_segments_is_refused():
    compose("a" * 1530, marketing=False)  # exactly ten segments
    with pytest.raises(ValidationError) as raised:
        compose("a" * 1531, marketing=False)
    assert "11 SMS segments" in raised.value.message_dict["body"][0]


def test_cost_is_segments_times_the_price_setting(settings):
    settings.SMS_PRICE_PER_SEGMENT = 0.0415
    assert estimate_cost(3) == Decimal("0.1245")
    assert analyse("a" * 161).cost == Decimal("0.0830")
