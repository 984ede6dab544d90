"""Which replies are STOP, START or HELP.

Opting out must always work, so STOP words are read generously: any case, punctuation, and words around
them ("Stop texting me please", "stop.", "pls unsubscribe"). START only counts when the text is about
nothing else, so a volunteer's "start time?" does not quietly undo an opt-out by accident.

Before reading, a text is normalised so look-alikes cannot hide a STOP: NFKC (full-width and styled
letters), accents and zero-width characters dropped, Cyrillic and Greek letters that look Latin mapped to
them ("ЅТОР" with a Cyrillic S), and letters typed apart joined again ("s t o p", "S.T.O.P"). Opt-out
requests in plain words ("please don't text me again", "remove me") opt out when the text is only that;
inside a longer text they are flagged for a coordinator (``looks_like_opt_out``) instead of guessed at.
No library is used for the look-alikes: the well-known ones detect confusables (confusable-homoglyphs) or
list every reading (confusables); we need one fixed, small, reviewable mapping to Latin capitals.
"""

import re
import unicodedata

STOP = "STOP"
START = "START"
HELP = "HELP"

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
# Words that mean STOP anywhere in a short text, not only first ("please stop", "I said STOP!").
_STOP_ANYWHERE = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# "START please" is a request; "start time?" is a question.
_START_COMPANIONS = frozenset({"PLEASE", "PLS", "AGAIN", "ALL", "SMS", "TEXTS", "MESSAGES", "ME"})
_SHORT = 6


# Cyrillic and Greek capitals and small letters that look like Latin ones (after upper-casing, the small
# ones too). Only shapes a person would read as the Latin letter; Unicode's confusables.txt lists them.
_LOOK_ALIKES = str.maketrans(
    {
        # Cyrillic
        "А": "A", "В": "B", "Е": "E", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "К": "K", "М": "M", "Н": "H",
        "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Һ": "H",
        "Ь": "B", "Ӏ": "I", "П": "N",
        # Greek
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
        "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϻ": "M",
    }
)  # fmt: skip
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def normalise(body: str) -> str:
    """Upper-case Latin text as a person reads it: look-alikes mapped, accents and invisible marks dropped."""
    text = unicodedata.normalize("NFKC", body or "").translate(_INVISIBLE)
    text = text.upper().translate(_LOOK_ALIKES)
    # "STÖP" → "STOP": drop combining accents (after NFKD), keep the base letters.
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    # A zero between letters is an O ("ST0P").
    return re.sub(r"(?<=[A-Z])0|0(?=[A-Z])", "O", text)


def _join_spelled_out(words: list[str]) -> list[str]:
    """Runs of three or more single letters ("S T O P", "s.t.o.p") are one word typed apart."""
    joined: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1:
            run.append(word)
            continue
        joined.extend(["".join(run)] if len(run) >= 3 else run)
        run = []
        if word:
            joined.append(word)
    return joined


def _words(body: str) -> list[str]:
    words = _join_spelled_out(re.findall(r"[A-Z]+", normalise(body)))
    # "stop all", "opt out", "un subscribe" typed with a space
    joined = []
    for word in words:
        if joined and (joined[-1], word) in {("STOP", "ALL"), ("OPT", "OUT"), ("UN", "SUBSCRIBE")}:
            joined[-1] = joined[-1] + word
        else:
            joined.append(word)
    return joined


# Opt-out requests in plain words, matched on the normalised words joined by single spaces
# ("DON'T" reads as "DON T"). Each alone is an unambiguous request; in a longer text it is flagged.
_OPT_OUT_PHRASES = re.compile(
    r"\b("
    r"(DO NOT|DON ?T|DONT|NEVER) (TEXT|MESSAGE|SMS|CONTACT|TXT|MSG)( ME| US)?"
    r"|NO MORE (TEXTS?|MESSAGES?|SMS|TXTS?)"
    r"|(REMOVE|DELETE|TAKE) (ME|MY NUMBER|US)( OFF| FROM)?"
    r"|(STOP|QUIT) (TEXTING|MESSAGING|SENDING|CONTACTING)"
    r"|UNSUBSCRIBE|OPTOUT|OPT ME OUT|LEAVE ME ALONE"
    r")\b"
)
# Words that may sit around such a request without making it about anything else.
_OPT_OUT_FILLER = frozenset(
    {"PLEASE", "PLS", "PLZ", "THANKS", "THANK", "YOU", "AGAIN", "ANY", "MORE", "ANYMORE", "ME", "FROM", "YOUR",
     "THIS", "THE", "LIST", "THESE", "THEM", "OFF", "NOW", "TEXTS", "MESSAGES", "I", "SAID", "JUST", "ALL",
     "OF", "TO", "US", "OK", "OKAY", "SORRY", "BUT", "ANYONE", "NUMBER", "MY", "HERE"}
)  # fmt: skip


def _phrase(words: list[str]) -> re.Match | None:
    return _OPT_OUT_PHRASES.search(" ".join(words))


def looks_like_opt_out(body: str) -> bool:
    """A plain-words opt-out request inside a longer text: not acted on, but shown first to a coordinator."""
    return parse_keyword(body) != STOP and _phrase(_words(body)) is not None


def parse_keyword(body: str) -> str:
    """STOP, START, HELP or "" for an ordinary reply."""
    words = _words(body)
    if not words:
        return ""
    first = words[0]
    if first in STOP_WORDS:
        return STOP
    if len(words) <= _SHORT and _STOP_ANYWHERE.intersection(words):
        return STOP
    match = _phrase(words)
    if match is not None:
        rest = " ".join(words).replace(match.group(0), " ", 1).split()
        if set(rest) <= _OPT_OUT_FILLER:  # the text is only the request, politely put
            return STOP
    if first in START_WORDS and set(words[1:]) <= _START_COMPANIONS:
        return START
    if first in HELP_WORDS and len(words) <= 3:
        return HELP
    return ""
