import pytest
from django.core.exceptions import ValidationError

from messaging.phones import masked, mobile_warning, normalise_mobile


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
        ("0791112345", "it has 10 digits, too few for a UK mobile"),
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


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        # Real 07 shapes that phonenumbers 9.0.43's tables call unallocated (is_valid_number is False for them).
        ("07911 323456", "+447911323456"),
        ("+44 7700 200123", "+447700200123"),
        ("0044 7911 423456", "+447911423456"),
        ("+44 (0)7700 500123", "+447700500123"),
    ],
)
def test_a_uk_mobile_in_a_range_the_library_calls_unallocated_is_accepted_with_a_warning(typed, e164):
    import phonenumbers

    assert not phonenumbers.is_valid_number(phonenumbers.parse(e164))  # the range really is unknown to the tables
    assert normalise_mobile(typed) == e164
    assert "check it" in mobile_warning(e164)


def test_known_and_drama_ranges_get_no_warning():
    assert mobile_warning("+447911123456") == ""
    assert mobile_warning("+447700900123") == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("07911 12345", "it has 10 digits, too few for a UK mobile"),
        ("+44 7911 1234567", "it has 12 digits, too many for a UK mobile"),
        ("12345", "it has 5 digits, too few for a UK number"),
        ("0161 496 0000", "is a landline"),
        ("07600 123456", "076 numbers are pagers, not a UK mobile"),
        ("07000 123456", "070 numbers are personal numbering"),
    ],
)
def test_a_refused_number_is_told_what_is_really_wrong(typed, message):
    with pytest.raises(ValidationError) as error:
        normalise_mobile(typed)
    assert message in error.value.messages[0]
    assert "check the number of digits" not in error.value.messages[0]
