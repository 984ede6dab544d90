"""Replies to briefings read as stances: "FOR", "not sure", "voting against" become proposed stance changes.

messaging hands us every reply to a text whose purpose is "briefing" (registered in `LobbyingConfig.ready`),
after it has acted on STOP / START / HELP: an opt-out always wins and never reaches this module. A reply we read
as a stance becomes a `ProposedStance` (one per reply) that a coordinator accepts, recording a StanceChange with
source "the delegate's own text", or rejects. Anything else stays in the replies inbox, as before.

The reading is deliberately narrow: a reply counts only when every word is a stance word or harmless filler
("Yes I'm for it", "I'll vote for", "undecided at the moment"). A question, a negation ("not for"), mixed signals
("for or against") or any other word ("thanks for the text") leaves it to a person in the inbox.

Levels: FOR, AGAINST and UNSURE map to the firm levels For, Against and Undecided, not to the leaning ones. The
delegate told us how they will vote, in writing, in answer to a specific ask: the strongest evidence we get, and
a coordinator still checks it before it counts. Hedged words ("probably for", "leaning against") map to the
leaning levels. "Yes" and "no" answer the briefing's ask, so they follow the campaign's position on the motion:
"yes" is for a motion we support and against one we oppose; on a motion we only watch they are not read.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lobbying import briefings
from lobbying.models import BriefingRecipient, Level, Motion, ProposedStance, StanceChange
from lobbying.services import record_stance
from messaging import keywords
from messaging import services as messaging_services

logger = logging.getLogger(__name__)

PURPOSE = briefings.PURPOSE  # replies to briefing texts come to us
_KEY = re.compile(r"briefing:(\d+):delegate:(\d+)")
MAX_WORDS = 20

# Emoji people answer with, as the words they stand for (skin-tone modifiers are dropped with the other symbols).
_EMOJI = {"👍": " YES ", "👎": " NO ", "✅": " YES ", "🤷": " DUNNO ", "🤔": " MAYBE "}

# Readings, tried in this order at each word: the first that matches there wins, so "NOT SURE" is read before
# "SURE" could be, and "THANKS FOR" before "FOR".
_PATTERNS = {
    # Not a stance, though it contains a stance word: "thanks for that", "undecided for now".
    "noise": r"THANKS? (YOU )?FOR|CHEERS FOR|FOR NOW|AS FOR",
    # "No thanks" may mean "stop texting me": a person reads it.
    "ambiguous": r"NO THANKS?( YOU)?",
    "leaning_for": r"(PROBABLY|PROB|LEANING|LEAN|LIKELY|MAYBE|MOSTLY|TENDING)( TOWARDS?| TO)?( VOTE| VOTING)? "
    r"(FOR|SUPPORT|SUPPORTING|IN FAVOU?R)",
    "leaning_against": r"(PROBABLY|PROB|LEANING|LEAN|LIKELY|MAYBE|MOSTLY|TENDING)( TOWARDS?| TO)?( VOTE| VOTING)? "
    r"(AGAINST|OPPOSE|OPPOSING)",
    "undecided": r"NOT (YET )?(SURE|DECIDED|CERTAIN)( YET)?|UNSURE|UNDECIDED|UNCERTAIN|UNCOMMITTED|UNDETERMINED"
    r"|MAYBE|PERHAPS|POSSIBLY|DONT KNOW|DO NOT KNOW|DUNNO|NO IDEA|IDK|NOT MADE (UP )?MY MIND( UP)?"
    r"|HAVENT (YET )?DECIDED|HAVE NOT (YET )?DECIDED|HAVENT MADE (UP )?MY MIND( UP)?|ON THE FENCE|CANT DECIDE"
    r"|STILL DECIDING|(STILL )?THINKING( ABOUT IT)?|TBC|TORN|50 50|(WILL|WELL|ILL) SEE|DEPENDS",
    "for": r"(VOTE|VOTING) YES|FOR|SUPPORT|SUPPORTING|SUPPORTIVE|IN FAVOU?R|BACKING|BACK IT",
    "against": r"(VOTE|VOTING) NO|AGAINST|OPPOSE|OPPOSED|OPPOSING",
    "yes": r"YES+|YEP|YEAH|YEA|YUP|AYE|SURE|OF COURSE|DEFINITELY|ABSOLUTELY|CERTAINLY|WILL DO|COUNT ME IN",
    "no": r"NO WAY|NO+|NOPE|NAH",
}
# Inner groups made non-capturing so that `lastgroup` names the reading.
_READINGS = re.compile(
    "|".join(rf"\b(?P<{name}>{pattern.replace('(', '(?:')})\b" for name, pattern in _PATTERNS.items())
)
_EXPLICIT = {
    "for": Level.FOR,
    "against": Level.AGAINST,
    "undecided": Level.UNDECIDED,
    "leaning_for": Level.LEANING_FOR,
    "leaning_against": Level.LEANING_AGAINST,
}
# Words that may surround a stance without changing it. Negations (NOT, DONT, WONT, NEVER) are deliberately
# absent: "not for" and "won't vote against" go to a person.
_FILLER_WORDS = """
    I IM ILL ID IVE WE WERE WILL SHALL WOULD AM BE IS ARE ITS IT THIS THAT THE A AN ON TO OF ALL AND TOO ALSO SO
    VOTE VOTES VOTING VOTED GOING GONNA COMPOSITE COMP MOTION MOTIONS ONE VERY REALLY STRONGLY FULLY TOTALLY
    COMPLETELY PERCENT THANKS THANK YOU TA CHEERS PLEASE PLS OK OKAY HI HELLO HEY COMRADE COMRADES MATE FRIEND
    X XX XXX STILL NOW TODAY AT MOMENT YET JUST ALREADY OUR MY US ME DELEGATION CLP WHOLE AS WELL ALWAYS OBVIOUSLY
    LOL HA HAHA SOLIDARITY SORRY"""
_FILLER = frozenset(_FILLER_WORDS.split())


def _words(text: str) -> list[str]:
    for emoji, word in _EMOJI.items():
        text = text.replace(emoji, word)
    # keywords.normalise: upper case, look-alike letters mapped, accents and invisible marks dropped (as STOP is).
    text = keywords.normalise(text).replace("'", "").replace("\u2019", "").replace("`", "")
    return re.findall(r"[A-Z0-9]+", text)


def read_stance_reply(text: str, *, position: str = Motion.Position.SUPPORT) -> Level | None:
    """The stance a reply states, or None when it does not clearly state one (then a person reads it).

    ``position`` is the campaign's position on the motion the briefing asked about: it decides what a bare
    "yes" or "no" means (see the module's docstring).
    """
    text = text or ""
    if "?" in text or "\uff1f" in text:  # a question wants an answer from a person, not a stance change
        return None
    words = _words(text)
    if not words or len(words) > MAX_WORDS:
        return None
    spoken = " ".join(words)
    found: set[str] = set()

    def consume(match):
        found.add(match.lastgroup)
        return " "

    rest = _READINGS.sub(consume, spoken)
    if "ambiguous" in found or any(word not in _FILLER and not word.isdigit() for word in rest.split()):
        return None
    explicit = {_EXPLICIT[name] for name in found if name in _EXPLICIT}
    if len(explicit) > 1:  # "for or against", "maybe against, for"
        return None
    if explicit:
        return explicit.pop()  # "yes I'm for it", "no, against": the yes or no only affirms
    answers = found & {"yes", "no"}
    if len(answers) != 1:
        return None
    agrees = answers == {"yes"}
    if position == Motion.Position.SUPPORT:
        return Level.FOR if agrees else Level.AGAINST
    if position == Motion.Position.OPPOSE:
        return Level.AGAINST if agrees else Level.FOR
    return None


# Handler (registered for the purpose "briefing") -----------------------------------------------------------------


def handle_briefing_reply(inbound) -> bool:
    """A reply to a briefing: a stance becomes a ProposedStance and the reply is handled (True); anything else
    (no briefing or no motion behind the text, words we do not read as a stance) stays in the inbox (False)."""
    if inbound.looks_like_opt_out:  # asks to stop in plain words: a person honours that first, in the inbox
        return False
    message = inbound.in_reply_to
    match = _KEY.fullmatch(message.idempotency_key) if message is not None else None
    if match is None:
        return False
    recipient = (
        BriefingRecipient.objects.select_related("briefing__motion", "delegate")
        .filter(briefing_id=int(match[1]), delegate_id=int(match[2]))
        .first()
    )
    if recipient is None or recipient.briefing.motion is None or recipient.delegate.erased_at is not None:
        return False
    motion = recipient.briefing.motion
    level = read_stance_reply(inbound.body, position=motion.position)
    if level is None:
        return False
    proposal = propose_stance(
        inbound=inbound, delegate=recipient.delegate, motion=motion, briefing=recipient.briefing, level=level
    )
    logger.info("inbound %s: proposed stance %s (%s)", inbound.pk, proposal.pk, level)
    return True


# Services ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def propose_stance(*, inbound, delegate, motion, level, briefing=None) -> ProposedStance:
    """A pending proposal from one reply; the same reply again (a retried webhook) finds the first one."""
    if level not in Level.values:
        raise ValidationError({"level": f"“{level}” is not a stance."})
    proposal, _created = ProposedStance.objects.get_or_create(
        inbound=inbound,
        defaults={"delegate": delegate, "motion": motion, "briefing": briefing, "level": level},
    )
    return proposal


def _locked_pending(proposal) -> ProposedStance:
    """The proposal locked for this transaction; a decided one is refused, saying who decided it and when."""
    proposal = ProposedStance.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposedStance.Status.PENDING:
        message = f"This proposal was already {proposal.get_status_display().lower()}"
        if proposal.decided_by is not None:
            message += f" by {proposal.decided_by.get_full_name() or proposal.decided_by.get_username()}"
        if proposal.decided_at is not None:
            message += f" at {timezone.localtime(proposal.decided_at):%H:%M on %-d %b}"
        raise ValidationError({"status": message + "."}, code="already_decided")
    if proposal.delegate.erased_at is not None:
        raise ValidationError({"delegate": "This delegate's data was erased: nothing can be recorded about them."})
    return proposal


def _decide(proposal, *, status, by, stance_change=None) -> ProposedStance:
    proposal.status = status
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.stance_change = stance_change
    proposal.save(update_fields=["status", "decided_by", "decided_at", "stance_change"])
    inbound = proposal.inbound
    if inbound.handled_by_id is None:  # the reply was handled automatically: now a person has seen it
        messaging_services.mark_inbound_handled(inbound, by=by)
    return proposal


@transaction.atomic
def accept_proposed_stance(*, proposal, by) -> ProposedStance:
    """Record the proposed stance (source: the delegate's own text, at the time they sent it) and mark the
    proposal accepted. Locked: two coordinators tapping at once record one stance change; the second is told."""
    proposal = _locked_pending(proposal)
    inbound = proposal.inbound
    change = record_stance(
        delegate=proposal.delegate,
        motion=proposal.motion,
        level=proposal.level,
        source=StanceChange.Source.OWN_TEXT,
        recorded_by=by,
        confidence=StanceChange.Confidence.HIGH,
        note=f"Replied to briefing {proposal.briefing_id}: “{inbound.body.strip()[:200]}”"
        if proposal.briefing_id
        else f"Replied: “{inbound.body.strip()[:200]}”",
        # When they said it: a conversation recorded after their text stays the current stance.
        at=min(inbound.received_at, timezone.now()),
    )
    return _decide(proposal, status=ProposedStance.Status.ACCEPTED, by=by, stance_change=change)


@transaction.atomic
def reject_proposed_stance(*, proposal, by) -> ProposedStance:
    """Not what they meant (or not worth recording): nothing is recorded; the proposal leaves the list."""
    proposal = _locked_pending(proposal)
    return _decide(proposal, status=ProposedStance.Status.REJECTED, by=by)
