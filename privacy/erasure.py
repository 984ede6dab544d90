"""Erasure on request: find a person's records by phone number or email, show what would go, erase it.

Each app anonymises its own data through its services (delegates, lobbying, volunteers, messaging); this module
only finds the records and runs those services together in one transaction, writing one AuditEvent (counts,
no personal data). The preview runs exactly the same services in a transaction that is rolled back, so what
the coordinator is shown is what the erasure does.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from delegates.models import Delegate
from delegates.services import erase_delegates
from lobbying.models import LobbyingAssignment
from lobbying.services import erase_lobbying_records
from messaging.models import InboundMessage, OutboundMessage
from messaging.phones import masked, normalise_mobile
from messaging.privacy import erase_numbers, was_forgotten
from messaging.services import relink_opt_outs
from privacy import selectors
from privacy.models import AuditEvent
from volunteers.models import Volunteer
from volunteers.services import erase_volunteers

# What each count means, in the order pages show them.
COUNT_LABELS = {
    "delegates": "delegate records",
    "consents": "consent records kept as evidence, wording tied to the person removed",
    "stance_notes": "notes on stance changes and conversations",
    "briefing_texts": "personalised briefing texts",
    "assignments": "lobbying links (name and mobile)",
    "recorder_names": "volunteers' names on recorded stances",
    "volunteers": "volunteer records",
    "signups_cancelled": "upcoming shift sign-ups cancelled",
    "texts_skipped": "waiting texts stopped",
    "texts": "texts sent (body and number)",
    "replies": "texts received (body and number)",
    "opt_out_events": "opt-out history entries (number)",
}


@dataclass(frozen=True)
class Record:
    """One record that matched: a delegate at a conference, or a volunteer. ``key`` is what the form posts."""

    kind: str
    pk: int
    name: str
    detail: str
    masked_mobile: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.pk}"


@dataclass
class Lookup:
    """What a phone number or email found. ``number`` is set when the query was a mobile number."""

    query: str
    number: str = ""
    email: str = ""
    records: list[Record] = field(default_factory=list)
    texts: int = 0  # texts to or from the number (or the records' numbers) still holding it
    assignments: int = 0  # lobbying links given to this number (a volunteer outside the volunteers app)
    erased_before: bool = False  # nothing found, but the number was erased earlier (its hash is on the opt-out list)

    @property
    def found_anything(self) -> bool:
        return bool(self.records or self.texts or self.assignments)


def parse_query(query: str) -> tuple[str, str]:
    """(E.164 number, "") or ("", email); a ValidationError that says what to type otherwise."""
    query = (query or "").strip()
    if not query:
        raise ValidationError({"query": "Enter a mobile number or an email address."})
    if "@" in query:
        try:
            validate_email(query)
        except ValidationError:
            raise ValidationError({"query": "That is not an email address."}) from None
        return "", query.lower()
    try:
        return normalise_mobile(query), ""
    except ValidationError as exc:
        raise ValidationError({"query": exc.messages}) from None


def find_person(*, query: str) -> Lookup:
    """Every delegate and volunteer record holding this mobile or email (erased ones no longer match), and how
    many texts still carry the number. A fixed number of queries."""
    number, email = parse_query(query)
    lookup = Lookup(query=query.strip(), number=number, email=email)
    match = Q(mobile=number) if number else Q(email__iexact=email)
    numbers = {number} if number else set()
    delegates = (
        Delegate.objects.filter(match, erased_at__isnull=True)
        .select_related("organisation", "conference")
        .order_by("-conference__starts_on", "last_name", "pk")
    )
    for delegate in delegates:
        lookup.records.append(
            Record(
                kind="delegate",
                pk=delegate.pk,
                name=delegate.full_name,
                detail=f"Delegate, {delegate.organisation.name}, {delegate.conference.name}",
                masked_mobile=masked(delegate.mobile) if delegate.mobile else "",
            )
        )
        numbers.add(delegate.mobile)
    for volunteer in Volunteer.objects.filter(match, erased_at__isnull=True).order_by("name", "pk"):
        lookup.records.append(
            Record(
                kind="volunteer",
                pk=volunteer.pk,
                name=volunteer.name,
                detail="Volunteer",
                masked_mobile=masked(volunteer.mobile),
            )
        )
        numbers.add(volunteer.mobile)
    numbers.discard("")
    if numbers:
        lookup.texts = (
            OutboundMessage.objects.filter(to__in=numbers).count()
            + InboundMessage.objects.filter(from_number__in=numbers).count()
        )
    if number:
        lookup.assignments = LobbyingAssignment.objects.filter(volunteer_mobile=number).count()
    if number and not lookup.found_anything:
        lookup.erased_before = was_forgotten(number)
    return lookup


@dataclass
class ErasurePlan:
    delegate_ids: list[int]
    volunteer_ids: list[int]
    numbers: list[str]

    @property
    def records(self) -> int:
        return len(self.delegate_ids) + len(self.volunteer_ids)


def plan_erasure(*, lookup: Lookup, keys=None) -> ErasurePlan:
    """The records chosen (``keys``; None means all that matched) and the numbers whose texts go with them.

    Only records the lookup found can be chosen, so a tampered form cannot reach anyone else. The number
    searched for goes too: it may hold texts without any record (someone who only ever texted us).
    """
    chosen = [r for r in lookup.records if keys is None or r.key in set(keys)]
    delegate_ids = [r.pk for r in chosen if r.kind == "delegate"]
    volunteer_ids = [r.pk for r in chosen if r.kind == "volunteer"]
    numbers = set(Delegate.objects.filter(pk__in=delegate_ids).exclude(mobile="").values_list("mobile", flat=True))
    numbers |= set(Volunteer.objects.filter(pk__in=volunteer_ids).values_list("mobile", flat=True))
    if lookup.number:
        numbers.add(lookup.number)
    return ErasurePlan(delegate_ids=delegate_ids, volunteer_ids=volunteer_ids, numbers=sorted(numbers))


def _run(plan: ErasurePlan, *, now) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in (
        # Lobbying first: it recognises a volunteer's conversations by the name about to be blanked.
        erase_lobbying_records(
            delegate_ids=plan.delegate_ids,
            volunteer_refs=plan.volunteer_ids,
            volunteer_mobiles=plan.numbers,
            now=now,
        ),
        erase_delegates(delegate_ids=plan.delegate_ids, now=now),
        erase_volunteers(volunteer_ids=plan.volunteer_ids, now=now),
        erase_numbers(numbers=plan.numbers, now=now),
    ):
        for kind, count in part.items():
            counts[kind] = counts.get(kind, 0) + count
    # A record not chosen (the same number at another conference, or as a volunteer) still holds the number:
    # its opt-out keeps the number, so "can be texted" (matched by number) still sees it.
    relink_opt_outs(numbers=selectors.numbers_held(among=plan.numbers), via="erasure: held by another record")
    return {kind: counts.get(kind, 0) for kind in COUNT_LABELS}


class _Rollback(Exception):
    pass


def preview_erasure(*, plan: ErasurePlan) -> dict[str, int]:
    """What ``erase`` would do, counted by running it and rolling back (nothing is written, nothing texted)."""
    counts: dict[str, int] = {}
    try:
        with transaction.atomic():
            counts = _run(plan, now=timezone.now())
            raise _Rollback
    except _Rollback:
        pass
    return counts


@dataclass
class ErasureResult:
    counts: dict[str, int]
    event: AuditEvent | None  # None when there was nothing left to erase

    @property
    def nothing_left(self) -> bool:
        return self.event is None


def erase(*, plan: ErasurePlan, actor, now=None) -> ErasureResult:
    """Erase the planned records in one transaction and record it (when, by whom, counts; no personal data).

    Erasing again finds nothing left: every part skips what is already anonymised, and no event is written.
    """
    now = now or timezone.now()
    with transaction.atomic():
        counts = _run(plan, now=now)
        if not any(counts.values()):
            return ErasureResult(counts=counts, event=None)
        event = AuditEvent.objects.create(
            action=AuditEvent.Action.ERASURE,
            what="Erasure on request",
            count=counts["delegates"] + counts["volunteers"],
            detail={"counts": counts},
            actor=actor,
            at=now,
        )
    return ErasureResult(counts=counts, event=event)
