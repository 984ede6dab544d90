"""Which replies are STOP, START or HELP.

Opting out must always work, so STOP words are read generously: any case, punctuation, and words around
them ("Stop texting me please", "stop.", "pls unsubscribe"). START only counts when the text is about
nothing else, so a volunteer's "start time?" does not quietly undo an opt-out by accident.
"""

import re

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


def _words(body: str) -> list[str]:
    words = re.findall(r"[A-Z]+", (body or "").upper())
    # "stop all", "opt out", "un subscribe" typed with a space
    joined = []
    for word in words:
        if joined and (joined[-1], word) in {("STOP", "ALL"), ("OPT", "OUT"), ("UN", "SUBSCRIBE")}:
            joined[-1] = joined[-1] + word
        else:
            joined.append(word)
    return joined


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
    if first in START_WORDS and set(words[1:]) <= _START_COMPANIONS:
        return START
    if first in HELP_WORDS and len(words) <= 3:
        return HELP
    return ""
