"""Mobile numbers: normalise whatever people type to E.164, and refuse what cannot receive a text.

People type 07…, +44 7…, 0044 7…, +44 (0)7… and 7… (no trunk 0); libphonenumber parses them all.

For UK numbers we decide "is this a mobile" by shape, not by libphonenumber's allocation tables: Ofcom
allocates new 07 blocks every month and the pinned metadata lags behind, so a real delegate's new number
would be refused. A UK mobile is +447 and nine more digits, except 070 (personal numbering, premium rate)
and 076 (pagers) other than 07624 (Isle of Man mobiles). Numbers in a range the metadata does not know are
accepted; :func:`mobile_warning` says so, for an import preview to show.
"""

import re
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumbers import PhoneNumberFormat, PhoneNumberType

DEFAULT_REGION = "GB"
# Ofcom keeps 07700 900000–900999 for drama: safe fake mobiles for demo data and tests, which
# libphonenumber calls unallocated. Accepting them lets the demo never text a real person.
FICTIONAL_MOBILE_PREFIX = "+447700900"
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
UK_MOBILE_DIGITS = 10  # significant digits after +44: 7 and nine more (07xxx xxxxxx nationally)
# The usual spellings of a UK 07 number (07…, +44 7…, 0044 7…, 44 7…, +44 (0)7…, 7…) once spaces, dashes,
# dots and brackets are gone. They skip libphonenumber's parser (~0.5 ms a number), which an import of
# thousands of rows would feel; anything else goes through it.
_UK_07 = re.compile(r"(?:\+44|0044|44)?0?(7\d{9})")
_SEPARATORS = re.compile(r"[\s().\-]")


def is_fictional(e164: str) -> bool:
    return e164.startswith(FICTIONAL_MOBILE_PREFIX) and len(e164) == 13


def normalise_mobile(raw: str) -> str:
    """Return the number in E.164 (``+447911123456``) or raise ValidationError saying what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a mobile number.", code="required")
    if len(text) > 40:
        raise ValidationError("That is too long to be a phone number.", code="invalid")
    if match := _UK_07.fullmatch(_SEPARATORS.sub("", text)):
        return _uk_mobile(text, phonenumbers.PhoneNumber(country_code=44, national_number=int(match[1])))
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"“{text}” is not a phone number.", code="invalid") from None
    if number.country_code == 44:
        return _uk_mobile(text, number)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"“{text}” is not a valid +{number.country_code} phone number: check it with its owner.", code="invalid"
        )
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(f"“{text}” is not a mobile number, so it cannot receive texts.", code="not_mobile")
    return e164


def _uk_mobile(text: str, number) -> str:
    national = str(number.national_number)
    digits = _digits_as_typed(text, national)
    if national.startswith("7"):
        if len(national) < UK_MOBILE_DIGITS:
            raise ValidationError(
                f"“{text}” is not a valid phone number: it has {digits} digits, too few for a UK mobile "
                "(07 then nine more digits, 11 in all).",
                code="invalid",
            )
        if len(national) > UK_MOBILE_DIGITS:
            raise ValidationError(
                f"“{text}” is not a valid phone number: it has {digits} digits, too many for a UK mobile "
                "(07 then nine more digits, 11 in all).",
                code="invalid",
            )
        if national.startswith("70"):
            raise ValidationError(
                f"“{text}” is not a mobile number: 070 numbers are personal numbering (charged at a premium), "
                "not a UK mobile, so they cannot receive our texts.",
                code="not_mobile",
            )
        if national.startswith("76") and not national.startswith("7624"):
            raise ValidationError(
                f"“{text}” is not a mobile number: 076 numbers are pagers, not a UK mobile, so they cannot receive "
                "texts.",
                code="not_mobile",
            )
        return "+44" + national
    if phonenumbers.is_valid_number(number):
        kind = "a landline" if phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE else "a UK number"
        raise ValidationError(
            f"“{text}” is {kind}: it is not a mobile number, so it cannot receive texts (UK mobiles start 07).",
            code="not_mobile",
        )
    if digits < 10:
        reason = f"it has {digits} digits, too few for a UK number (a mobile is 07 then nine more digits)"
    elif digits > 11:
        reason = f"it has {digits} digits, too many for a UK number (a mobile is 07 then nine more digits)"
    else:
        reason = "it is not a UK mobile (UK mobiles start 07) nor any other UK number in use"
    raise ValidationError(f"“{text}” is not a valid phone number: {reason}.", code="invalid")


def _digits_as_typed(text: str, national: str) -> int:
    """How many digits the person typed, counted as a UK number written nationally (07…)."""
    typed = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+") or typed.startswith(("00", "44")):
        return len(national) + 1
    return len(typed)


def mobile_warning(e164: str) -> str:
    """A note for a mobile we accept though libphonenumber's pinned tables call its range unallocated, else ""."""
    if not e164.startswith("+447") or is_fictional(e164) or len(e164) != 13:
        return ""
    if _range_is_listed(e164[3:9]):
        return ""
    return f"{e164[:7]}… is a range our phone-number tables do not list yet; accepted as a UK mobile, but check it."


@lru_cache(maxsize=4096)
def _range_is_listed(prefix: str) -> bool:
    """Whether the tables list the UK mobile block ``prefix`` (7 and five digits: in phonenumbers 9.0.43 every
    number of such a block is valid or none is). A pure function of the pinned metadata, so memoised per
    process: an import checks thousands of numbers against a few hundred blocks."""
    return phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=44, national_number=int(prefix + "0000")))


def masked(e164: str) -> str:
    """For logs and lists where the full number is not needed: +44 7••• •••456."""
    if not e164:
        return ""
    return f"{e164[:4]}••••••{e164[-3:]}"
