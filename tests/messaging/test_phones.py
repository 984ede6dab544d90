import pytest
from django.core.exceptions import ValidationError

from messaging.phones import masked, normalise_mobile


@pytest.mark.parametrize(
    "typed",
    [
        "07911 123456",
        "07911123456",
        "07911-123-456",
        "(07911) 123456",
        "+44 7911 123456",
        "+447911123456",
        "44 7911 123456",
        "447911123456",
        "0044 7911 123456",
        "00447911123456",
        "+44 (0)7911 123456",
        "+4407911123456",
        " 07911 123456 ",
    ],
)
def test_every_common_way_of_typing_a_uk_mobile_becomes_e164(typed):
    assert normalise_mobile(typed) == "+447911123456"


def test_ofcom_drama_numbers_are_accepted_so_demo_data_never_texts_a_real_person():
    assert normalise_mobile("07700 900123") == "+447700900123"


def test_isle_of_man_mobiles_and_foreign_mobiles_are_accepted():
    assert normalise_mobile("07624 123456") == "+447624123456"
    assert normalise_mobile("+33 6 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a mobile number."),
        ("not a number", "is not a phone number"),
        ("0791112345", "check the number of digits"),
        ("020 7946 0000", "is not a mobile number"),
        ("07000 123456", "is not a mobile number"),  # 070 personal numbering: looks like a mobile, is not
        ("0" * 60, "too long"),
    ],
)
def test_numbers_that_cannot_take_a_text_are_refused_with_the_reason(typed, message):
    with pytest.raises(ValidationError) as error:
        normalise_mobile(typed)
    assert message in error.value.messages[0]


def test_masked_numbers_keep_only_the_country_code_and_last_digits():
    assert masked("+447911123456") == "+447••••••456"
