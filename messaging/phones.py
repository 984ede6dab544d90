"""Mobile numbers: normalise whatever people type to E.164, and refuse what cannot receive a text.

People type 07…, +44 7…, 0044 7…, +44 (0)7… and 7… (no trunk 0); libphonenumber parses them all.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumbers import PhoneNumberFormat, PhoneNumberType

DEFAULT_REGION = "GB"
# Ofcom keeps 07700 900000–900999 for drama: safe fake mobiles for demo data and tests, which
# libphonenumber calls unallocated. Accepting them lets the demo never text a real person.
FICTIONAL_MOBILE_PREFIX = "+447700900"
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def is_fictional(e164: str) -> bool:
    return e164.startswith(FICTIONAL_MOBILE_PREFIX) and len(e164) == 13


def normalise_mobile(raw: str) -> str:
    """Return the number in E.164 (``+447911123456``) or raise ValidationError saying what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a mobile number.", code="required")
    if len(text) > 40:
        raise ValidationError("That is too long to be a phone number.", code="invalid")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"“{text}” is not a phone number.", code="invalid") from None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if is_fictional(e164):
        return e164
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"“{text}” is not a valid phone number: check the number of digits.", code="invalid")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(
            f"“{text}” is not a mobile number, so it cannot receive texts (UK mobiles start 07).", code="not_mobile"
        )
    return e164


def masked(e164: str) -> str:
    """For logs and lists where the full number is not needed: +44 7••• •••456."""
    if not e164:
        return ""
    return f"{e164[:4]}••••••{e164[-3:]}"
