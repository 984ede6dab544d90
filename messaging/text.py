"""Text hygiene: what a text costs, and how to keep it in the cheap GSM-7 alphabet.

One character outside GSM-7 (a curly quote pasted from a word processor) turns the whole text into
UCS-2, where a segment holds 67 characters instead of 153: the same briefing then costs two or three
times as much. So we replace the usual typographic culprits before counting.
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError

GSM7 = "GSM-7"
UCS2 = "UCS-2"
MAX_SEGMENTS = 10
OPT_OUT_LINE = "Reply STOP to opt out"

# 3GPP TS 23.038 basic character set, and the extension table (each costs an escape plus itself).
_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")

_REPLACEMENTS = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "―": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "\t": " ",
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    "\r\n": "\n",
}


@dataclass(frozen=True)
class TextInfo:
    text: str
    encoding: str
    segments: int
    characters: int

    @property
    def cost(self) -> Decimal:
        return estimate_cost(self.segments)


def clean(text: str) -> str:
    """Replace smart quotes, dashes, odd spaces and the like so the text can stay GSM-7."""
    text = unicodedata.normalize("NFC", text or "")
    for bad, good in _REPLACEMENTS.items():
        text = text.replace(bad, good)
    return text.replace("\x00", "").strip()


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def _pack(costs: list[int], single: int, multi: int) -> int:
    """Segments needed, never splitting an escape pair or a surrogate pair across two segments."""
    total = sum(costs)
    if total <= single:
        return 1 if costs else 0
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments += 1
            used = 0
        used += cost
    return segments


def segment_count(text: str) -> tuple[str, int]:
    """Return (encoding, segments) as a carrier counts them."""
    if is_gsm7(text):
        return GSM7, _pack([2 if ch in _GSM7_EXTENDED else 1 for ch in text], 160, 153)
    # UCS-2 counts UTF-16 code units: an emoji takes two.
    return UCS2, _pack([2 if ord(ch) > 0xFFFF else 1 for ch in text], 70, 67)


def estimate_cost(segments: int) -> Decimal:
    price = Decimal(str(settings.SMS_PRICE_PER_SEGMENT))
    return (price * segments).quantize(Decimal("0.0001"))


def analyse(text: str) -> TextInfo:
    encoding, segments = segment_count(text)
    return TextInfo(text=text, encoding=encoding, segments=segments, characters=len(text))


def privacy_line() -> str:
    """The line the first campaign text to a number carries: where our privacy notice is (UK GDPR Art. 13/14)."""
    return f"Privacy: {settings.PUBLIC_BASE_URL}/privacy/"


def compose(body: str, *, marketing: bool, first_contact: bool = False) -> TextInfo:
    """The text exactly as it will be sent: cleaned, and for marketing named and with the opt-out line (PECR).

    ``first_contact``: the first campaign text to a number also links the privacy notice (a line after the
    opt-out line), unless that alone would take it past MAX_SEGMENTS. Budgets that must hold for every
    recipient (a briefing's) check with ``first_contact=True``, the longer text.
    Raises ValidationError (on "body") for an empty text or one longer than MAX_SEGMENTS segments.
    """
    text = clean(body)
    if not text:
        raise ValidationError({"body": "Write the text to send: it is empty."}, code="required")
    if marketing:
        sender = clean(settings.SMS_SENDER_NAME)
        if sender and not text.lower().startswith(sender.lower()):
            text = f"{sender}: {text}"
        text = f"{text}\n{OPT_OUT_LINE}"
    info = analyse(text)
    if info.segments > MAX_SEGMENTS:
        raise ValidationError(
            {
                "body": f"That text needs {info.segments} SMS segments ({info.encoding}); "
                f"the limit is {MAX_SEGMENTS}. Shorten it."
            },
            code="too_long",
        )
    if marketing and first_contact:
        with_notice = analyse(f"{text}\n{privacy_line()}")
        if with_notice.segments <= MAX_SEGMENTS:
            return with_notice
    return info
