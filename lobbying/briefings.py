"""Briefings: compose a text with merge fields, pick its audience as data, preview it, freeze and queue it.

The only writer of Briefing, BriefingRecipient and BriefingStatusChange (services), plus the reads they need
(selectors: `audience`, `preview_briefing`). Texts go out through `messaging.services.send_batch`, which
filters opt-outs again, is idempotent per key and publishes its tasks after commit.
"""

import datetime as dt
import string
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from delegates.models import Delegate, Organisation, Region, Section
from lobbying.models import (
    ALL_LEVELS,
    Briefing,
    BriefingRecipient,
    BriefingStatusChange,
    CoordinatorProfile,
    SavedList,
)
from lobbying.selectors import delegates_with_stance
from messaging import services as messaging
from messaging import text as sms_text
from messaging.models import OPEN_STATUSES, OutboundMessage
from messaging.phones import normalise_mobile
from messaging.selectors import campaign_texts_written
from messaging.services import BatchText, send_batch, send_sms

MERGE_FIELDS = ("first_name", "organisation", "motion")
# A briefing is read on a phone in a hurry: three segments is plenty, and it caps the cost of a mistake.
MAX_BRIEFING_SEGMENTS = 3
# Stand-ins for the longest names a recipient is likely to have, used to check the length at compose time.
_LONGEST_SAMPLE = {"first_name": "X" * 15, "organisation": "X" * 45}
EXAMPLES = 3
PURPOSE = "briefing"


def recipient_key(*, briefing_id: int, delegate_id: int) -> str:
    return f"briefing:{briefing_id}:delegate:{delegate_id}"


def batch_label(briefing_id: int) -> str:
    """The outbox batch of a briefing's texts: messaging pauses, resumes and cancels them by this label."""
    return f"briefing:{briefing_id}"


def merge_fields_in(body: str) -> list[str]:
    """The merge fields a body uses, in order; ValidationError on "body" naming any unknown or malformed one."""
    try:
        parts = list(string.Formatter().parse(body or ""))
    except ValueError:
        raise ValidationError(
            {"body": "A brace is not closed. Merge fields look like {first_name}; write {{ or }} for a brace."}
        ) from None
    used, unknown = [], []
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in MERGE_FIELDS or spec or conversion:
            unknown.append("{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
        elif field not in used:
            used.append(field)
    if unknown:
        known = " ".join("{" + name + "}" for name in MERGE_FIELDS)
        raise ValidationError(
            {"body": f"Unknown merge field {', '.join(unknown)}. Use only {known}."}, code="unknown_merge_field"
        )
    return used


def render(body: str, *, first_name: str, organisation: str, motion: str) -> str:
    return body.format(first_name=first_name, organisation=organisation, motion=motion)


def _motion_label(motion) -> str:
    return str(motion) if motion is not None else ""


def _validate(*, conference, motion, body, stance_levels, sections, regions, organisations) -> None:
    errors = {}
    try:
        used = merge_fields_in(body)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        used = []
    if "motion" in used and motion is None:
        errors.setdefault("body", []).append("{motion} needs a motion: pick one, or take the merge field out.")
    if motion is not None and motion.conference_id != conference.pk:
        errors["motion"] = ["That motion belongs to another conference."]
    bad = [level for level in stance_levels if level not in ALL_LEVELS]
    if bad:
        errors["stance_levels"] = [f"Unknown stance level {', '.join(map(str, bad))}."]
    elif stance_levels and motion is None:
        errors["stance_levels"] = ["Choosing delegates by stance needs a motion."]
    bad = [section for section in sections if section not in Section.values]
    if bad:
        errors["sections"] = [f"Unknown section {', '.join(map(str, bad))}."]
    bad = [region for region in regions if region not in Region.values]
    if bad:
        errors["regions"] = [f"Unknown region {', '.join(map(str, bad))}."]
    if "body" not in errors:
        sample = render(body, **_LONGEST_SAMPLE, motion=_motion_label(motion))
        try:
            # first_contact: a recipient's first campaign text also carries the privacy notice line.
            info = sms_text.compose(sample, marketing=True, first_contact=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if info.segments > MAX_BRIEFING_SEGMENTS:
                errors["body"] = [
                    f"With long names filled in this text needs {info.segments} SMS segments ({info.encoding}); "
                    f"a briefing may use {MAX_BRIEFING_SEGMENTS}. Shorten it."
                ]
    if errors:
        raise ValidationError(errors)


def _record(briefing, *, from_status, changed_by, reason=""):
    BriefingStatusChange.objects.create(
        briefing=briefing, from_status=from_status, to_status=briefing.status, changed_by=changed_by, reason=reason
    )


# Services ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def compose_briefing(*, conference, body, created_by, motion=None, stance_levels=(), sections=(), regions=(),
                     organisations=(), saved_list=None, send_at=None, useless_after=None) -> Briefing:  # fmt: skip
    """Create a draft briefing. ValidationError keyed by field: an unknown merge field, a text too long, a bad
    filter. The audience is stored as filters and only frozen when the briefing is sent."""
    body = (body or "").strip()
    stance_levels, sections, regions = list(stance_levels), list(sections), list(regions)
    organisations = list(organisations)
    _validate(conference=conference, motion=motion, body=body, stance_levels=stance_levels, sections=sections,
              regions=regions, organisations=organisations)  # fmt: skip
    if any(org.pk is None for org in organisations):
        raise ValidationError({"organisations": ["Save the organisation first."]})
    if saved_list is not None and saved_list.conference_id != conference.pk:
        raise ValidationError({"saved_list": ["That list belongs to another conference."]})
    briefing = Briefing.objects.create(
        conference=conference,
        motion=motion,
        body=body,
        stance_levels=stance_levels,
        sections=sections,
        regions=regions,
        saved_list=saved_list,
        send_at=send_at,
        useless_after=useless_after,
        created_by=created_by,
    )
    if organisations:
        briefing.organisations.set(organisations)
    _record(briefing, from_status="", changed_by=created_by)
    return briefing


@dataclass
class SendResult:
    briefing: Briefing
    recipients: int  # frozen for this briefing (now or by an earlier send)
    queued: int  # texts queued by this call
    skipped: int  # written as skipped by this call (e.g. opted out since the audience was read)
    already_queued: int  # texts an earlier send had already queued: nothing queued twice


@transaction.atomic
def send_briefing(*, briefing, sent_by) -> SendResult:
    """Freeze the audience (textable delegates only) in one bulk insert and queue every text via send_batch.

    Idempotent: a second call (double click, two coordinators) finds the frozen recipients and the outbox keys
    already there, and queues nothing again. An empty audience, a cancelled briefing or one past its
    useless-after time is a ValidationError. Tasks are published after commit by send_batch.
    """
    briefing = Briefing.objects.select_for_update(of=("self",)).select_related("motion").get(pk=briefing.pk)
    if briefing.status == Briefing.Status.CANCELLED:
        raise ValidationError({"status": "This briefing was cancelled; it cannot be sent."})
    if briefing.status == Briefing.Status.PAUSED:
        raise ValidationError({"status": "This briefing is paused: resume it to send the rest."})
    if briefing.useless_after is not None and briefing.useless_after <= timezone.now():
        raise ValidationError({"useless_after": "Too late: this briefing is past its useless-after time."})

    frozen = list(BriefingRecipient.objects.filter(briefing=briefing).values_list("delegate__mobile", "body",
                                                                                  "idempotency_key"))  # fmt: skip
    if not frozen:
        now = timezone.now()
        rows = list(_audience_rows(briefing))
        if not rows:
            raise ValidationError(
                {"audience": "No delegate matches this audience with SMS consent and not opted out: nobody to text."}
            )
        recipients = [
            BriefingRecipient(
                briefing=briefing,
                delegate_id=row["pk"],
                body=_render_row(briefing, row),
                idempotency_key=recipient_key(briefing_id=briefing.pk, delegate_id=row["pk"]),
                created_at=now,
            )
            for row in rows
        ]
        BriefingRecipient.objects.bulk_create(recipients, batch_size=1000)
        frozen = [
            (row["mobile"], recipient.body, recipient.idempotency_key)
            for row, recipient in zip(rows, recipients, strict=True)
        ]

    result = send_batch(
        [BatchText(to=mobile, body=body, key=key) for mobile, body, key in frozen],
        purpose=PURPOSE,
        marketing=True,
        useless_after=briefing.useless_after,
        batch=batch_label(briefing.pk),
    )
    if briefing.status not in (Briefing.Status.SENDING, Briefing.Status.SENT):
        from_status = briefing.status
        briefing.status = Briefing.Status.SENDING
        briefing.save(update_fields=["status", "updated_at"])
        _record(briefing, from_status=from_status, changed_by=sent_by, reason=f"{len(frozen)} recipients")
    return SendResult(
        briefing=briefing,
        recipients=len(frozen),
        queued=len(result.queued),
        skipped=len(result.skipped),
        already_queued=len(result.existing),
    )


def _locked(briefing) -> Briefing:
    return Briefing.objects.select_for_update().get(pk=briefing.pk)


def _move(briefing, *, to, by, reason="") -> Briefing:
    from_status = briefing.status
    briefing.status = to
    briefing.save(update_fields=["status", "updated_at"])
    _record(briefing, from_status=from_status, changed_by=by, reason=reason[:200])
    return briefing


@transaction.atomic
def pause_briefing(*, briefing, by) -> Briefing:
    """Stop sending for now: texts not yet claimed by a worker are held, and a worker holds the ones it has
    before calling the provider. Only a briefing that is sending can be paused."""
    briefing = _locked(briefing)
    if briefing.status != Briefing.Status.SENDING:
        raise ValidationError(
            {"status": f"Only a briefing that is sending can be paused; this one is {briefing.get_status_display()}."}
        )
    change = messaging.hold_batch(batch_label(briefing.pk))
    return _move(briefing, to=Briefing.Status.PAUSED, by=by, reason=f"{change.changed} texts held")


@transaction.atomic
def resume_briefing(*, briefing, by) -> Briefing:
    """Send the rest of a paused briefing: the held texts go back to the queue, each still sent at most once.
    Refused once the briefing is past its useless-after time (cancel it instead)."""
    briefing = _locked(briefing)
    if briefing.status != Briefing.Status.PAUSED:
        raise ValidationError(
            {"status": f"Only a paused briefing can be resumed; this one is {briefing.get_status_display()}."}
        )
    if briefing.useless_after is not None and briefing.useless_after <= timezone.now():
        raise ValidationError(
            {"useless_after": "Too late to resume: this briefing is past its useless-after time. Cancel it instead."}
        )
    change = messaging.release_batch(batch_label(briefing.pk))
    return _move(briefing, to=Briefing.Status.SENDING, by=by, reason=f"{change.changed} texts queued again")


@transaction.atomic
def cancel_briefing(*, briefing, by, reason="") -> Briefing:
    """Stop for good: every text not yet handed to the provider is skipped ("cancelled"); those already sent
    stay sent. A draft or scheduled briefing is simply cancelled. Refused once sent or cancelled."""
    briefing = _locked(briefing)
    if briefing.status in (Briefing.Status.CANCELLED, Briefing.Status.SENT):
        raise ValidationError(
            {"status": f"This briefing is already {briefing.get_status_display().lower()}; nothing to cancel."}
        )
    skipped = messaging.cancel_batch(batch_label(briefing.pk), reason=reason).changed
    note = f"{skipped} texts not sent" + (f": {reason}" if reason else "")
    return _move(briefing, to=Briefing.Status.CANCELLED, by=by, reason=note)


def _when(value) -> str:
    return timezone.localtime(value).strftime("%a %d %b %H:%M")


@transaction.atomic
def schedule_briefing(*, briefing, at=None, before_motion=None, minutes_before=None, by) -> Briefing:
    """Send later: at a time, or ``minutes_before`` minutes before ``before_motion``'s agenda slot (moving the
    slot moves the send: the due time is computed from the motion). A time already past, a motion without a slot
    or whose slot (less the minutes) has passed, or a time after useless-after is refused, keyed by field.
    Scheduling a scheduled briefing again re-times it; beat's `send_due_briefings` sends it once when due."""
    briefing = _locked(briefing)
    if briefing.status not in (Briefing.Status.DRAFT, Briefing.Status.SCHEDULED):
        raise ValidationError(
            {"status": f"Only a draft can be scheduled; this briefing is {briefing.get_status_display()}."}
        )
    now = timezone.now()
    if (at is None) == (before_motion is None):
        raise ValidationError(
            {"at": "Give either a time, or a motion and how many minutes before its agenda slot (not both)."}
        )
    lead = None
    if at is not None:
        if minutes_before is not None:
            raise ValidationError({"minutes_before": "Minutes before go with a motion, not with a time."})
        if at <= now:
            raise ValidationError({"at": f"{_when(at)} has passed: pick a time in the future."})
        due, reason = at, f"for {_when(at)}"
    else:
        if minutes_before is None or minutes_before < 0 or minutes_before > 24 * 60:
            raise ValidationError({"minutes_before": "Say how many minutes before the slot, from 0 to 1440."})
        if before_motion.conference_id != briefing.conference_id:
            raise ValidationError({"before_motion": "That motion belongs to another conference."})
        slot = before_motion.scheduled_for
        if slot is None:
            raise ValidationError({"before_motion": f"{before_motion} has no agenda slot yet: schedule the motion."})
        if slot <= now:
            raise ValidationError({"before_motion": f"{before_motion}'s slot ({_when(slot)}) has already passed."})
        lead = dt.timedelta(minutes=minutes_before)
        due = slot - lead
        if due <= now:
            raise ValidationError(
                {"minutes_before": f"{minutes_before} minutes before {_when(slot)} is {_when(due)}: already past."}
            )
        reason = f"{minutes_before} minutes before {before_motion} (now {_when(due)})"
    if briefing.useless_after is not None and due >= briefing.useless_after:
        raise ValidationError(
            {"at": f"{_when(due)} is after this briefing's useless-after time ({_when(briefing.useless_after)})."}
        )
    from_status = briefing.status
    briefing.status = Briefing.Status.SCHEDULED
    briefing.send_at = at
    briefing.send_before_motion = before_motion
    briefing.send_lead = lead
    briefing.save(update_fields=["status", "send_at", "send_before_motion", "send_lead", "updated_at"])
    _record(briefing, from_status=from_status, changed_by=by, reason=reason[:200])
    return briefing


@transaction.atomic
def unschedule_briefing(*, briefing, by) -> Briefing:
    """Back to draft: the briefing will not go out by itself."""
    briefing = _locked(briefing)
    if briefing.status != Briefing.Status.SCHEDULED:
        raise ValidationError(
            {"status": f"Only a scheduled briefing can be unscheduled; this one is {briefing.get_status_display()}."}
        )
    briefing.send_at = briefing.send_before_motion = briefing.send_lead = None
    briefing.save(update_fields=["send_at", "send_before_motion", "send_lead"])
    return _move(briefing, to=Briefing.Status.DRAFT, by=by, reason="unscheduled")


# Saved lists ----------------------------------------------------------------------------------------------------


@transaction.atomic
def create_saved_list(*, conference, name, created_by, delegates=()) -> SavedList:
    """A named list of delegates of this conference; the name is unique within the conference."""
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the list a name of 1–100 characters."})
    if SavedList.objects.filter(conference=conference, name__iexact=name).exists():
        raise ValidationError({"name": f"There is already a list called “{name}”."})
    saved = SavedList.objects.create(conference=conference, name=name, created_by=created_by)
    if delegates:
        add_to_saved_list(saved_list=saved, delegates=delegates)
    return saved


@transaction.atomic
def add_to_saved_list(*, saved_list, delegates) -> SavedList:
    delegates = list(delegates)
    if any(d.conference_id != saved_list.conference_id for d in delegates):
        raise ValidationError({"delegates": "Only delegates of the list's conference can be added."})
    saved_list.delegates.add(*delegates)
    return saved_list


@transaction.atomic
def remove_from_saved_list(*, saved_list, delegates) -> SavedList:
    saved_list.delegates.remove(*list(delegates))
    return saved_list


# Test send ------------------------------------------------------------------------------------------------------

TEST_PURPOSE = "briefing_test"
# When nobody in the audience can be texted yet, the test text is filled in with these.
_SAMPLE_ROW = {"first_name": "Sam", "organisation__name": "Example CLP"}


@transaction.atomic
def set_coordinator_mobile(*, user, mobile) -> CoordinatorProfile:
    """The number a coordinator's test briefings go to ("" removes it)."""
    mobile = (mobile or "").strip()
    if mobile:
        try:
            mobile = normalise_mobile(mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages}) from None
    profile, _created = CoordinatorProfile.objects.update_or_create(user=user, defaults={"mobile": mobile})
    return profile


@transaction.atomic
def send_test_briefing(*, briefing, to_user):
    """Text the briefing, marked "[TEST]" and filled in with its first recipient's merge values, to the
    coordinator's own mobile (their CoordinatorProfile), never to a delegate. Each call is a new text."""
    mobile = CoordinatorProfile.objects.filter(user=to_user).values_list("mobile", flat=True).first()
    if not mobile:
        raise ValidationError(
            {"to_user": "You have no mobile number for test texts: add yours (PUT /api/briefings/my-mobile/ or the "
             "admin's coordinator profiles) first."}
        )  # fmt: skip
    briefing = Briefing.objects.select_related("motion").get(pk=briefing.pk)
    row = _audience_rows(briefing).first() or _SAMPLE_ROW
    body = "[TEST] " + _render_row(briefing, row)
    return send_sms(
        to=mobile,
        body=body,
        key=f"briefing:{briefing.pk}:test:{uuid.uuid4().hex}",
        purpose=TEST_PURPOSE,
        marketing=True,
    )


def coordinator_consent_by_number(numbers: set[str]) -> dict:
    """messaging's consent check: a coordinator's own mobile (CoordinatorProfile) takes their test briefings."""
    from messaging.registry import ConsentDecision

    mobiles = CoordinatorProfile.objects.filter(mobile__in=numbers).values_list("mobile", flat=True)
    return dict.fromkeys(mobiles, ConsentDecision(True, "a coordinator's own mobile, given for test briefings"))


# At most this many due briefings per beat run; the next run takes the rest.
DUE_BATCH = 20


def send_due_briefings(*, now=None) -> dict:
    """Send every scheduled briefing now due, each exactly once even with two beat or worker processes: each is
    taken with SELECT … FOR UPDATE SKIP LOCKED and must still be `scheduled`. One that cannot go (an empty
    audience, past useless-after) goes back to draft with the reason in its history. Then mark finished ones
    sent. Called by beat's `lobbying.tasks.send_due_briefings`."""
    now = now or timezone.now()
    due = list(
        Briefing.objects.with_due_at()
        .filter(status=Briefing.Status.SCHEDULED, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    counts = {"sent": 0, "refused": 0, "finished": 0}
    for pk in due:
        with transaction.atomic():
            taken = Briefing.objects.select_for_update(skip_locked=True).filter(pk=pk, status=Briefing.Status.SCHEDULED)
            briefing = taken.first()
            if briefing is None:  # another process has it, or has sent it
                continue
            try:
                with transaction.atomic():
                    send_briefing(briefing=briefing, sent_by=None)
                counts["sent"] += 1
            except ValidationError as exc:
                detail = " ".join(exc.messages)
                _move(briefing, to=Briefing.Status.DRAFT, by=None, reason=f"Not sent at its time: {detail}")
                counts["refused"] += 1
    counts["finished"] = len(finish_sent_briefings())
    return counts


def finish_sent_briefings() -> list[int]:
    """Mark `sent` every sending briefing none of whose texts is still open (waiting, held, with a worker or in
    doubt). One aggregate query for all of them, whatever their size, then one UPDATE per finished briefing.
    Returns the ids marked sent."""
    sending = dict(Briefing.objects.filter(status=Briefing.Status.SENDING).values_list("pk", "updated_at"))
    if not sending:
        return []
    labels = {batch_label(pk): pk for pk in sending}
    still_open = set(
        OutboundMessage.objects.filter(batch__in=list(labels), status__in=list(OPEN_STATUSES))
        .values_list("batch", flat=True)
        .distinct()
    )
    finished = []
    for label, pk in labels.items():
        if label in still_open:
            continue
        with transaction.atomic():
            # Conditional: a pause (or a second beat process) in between wins, and history is written once.
            if Briefing.objects.filter(pk=pk, status=Briefing.Status.SENDING).update(
                status=Briefing.Status.SENT, updated_at=timezone.now()
            ):
                BriefingStatusChange.objects.create(
                    briefing_id=pk,
                    from_status=Briefing.Status.SENDING,
                    to_status=Briefing.Status.SENT,
                    reason="every text handed to the provider or settled",
                )
                finished.append(pk)
    return finished


# Selectors ---------------------------------------------------------------------------------------------------------


def audience(briefing):
    """The delegates a briefing would go to now: its filters, and only those who may be texted (`textable`)."""
    if briefing.motion_id and briefing.stance_levels:
        queryset = delegates_with_stance(motion=briefing.motion, levels=briefing.stance_levels)
    else:
        queryset = Delegate.objects.for_conference(briefing.conference_id)
    queryset = queryset.textable()
    if briefing.sections and set(briefing.sections) != set(Section.values):
        clp = Q(organisation__kind=Organisation.Kind.CLP)
        queryset = queryset.filter(clp if Section.CLP in briefing.sections else ~clp)
    if briefing.regions:
        queryset = queryset.filter(organisation__region__in=briefing.regions)
    if briefing.saved_list_id:
        members = SavedList.delegates.through.objects.filter(savedlist_id=briefing.saved_list_id)
        queryset = queryset.filter(pk__in=members.values("delegate_id"))
    if briefing.pk:
        # Empty means "any organisation"; one query either way (a subquery).
        links = Briefing.organisations.through.objects.filter(briefing_id=briefing.pk)
        queryset = queryset.filter(Q(organisation__in=links.values("organisation_id")) | ~Exists(links))
    return queryset.order_by("pk")


def _audience_rows(briefing):
    return audience(briefing).values("pk", "first_name", "organisation__name", "mobile")


def _render_row(briefing, row) -> str:
    return render(
        briefing.body,
        first_name=row["first_name"],
        organisation=row["organisation__name"],
        motion=_motion_label(briefing.motion),
    )


@dataclass
class Example:
    delegate_id: int
    name: str
    text: str  # exactly what the phone shows: sender name, body, STOP line (and the privacy line on a first text)
    segments: int
    first_contact: bool = False  # our first campaign text to this number: it links the privacy notice


@dataclass
class BriefingPreview:
    count: int
    segments: int  # the whole briefing, summed over recipients
    max_segments: int
    encoding: str  # UCS-2 if any recipient's text needs it
    cost: Decimal
    examples: list[Example]
    first_contacts: int = 0  # recipients whose text carries the privacy notice line


def preview_briefing(*, briefing) -> BriefingPreview:
    """Count, segments and cost of sending now, and what three real recipients would receive, counted as
    send_batch will write them: a number's first campaign text also carries the privacy notice line (often a
    second segment). One query for the audience, whether each was texted before a subquery (plus the motion if
    not loaded)."""
    count = segments = max_segments = first_contacts = 0
    encoding = sms_text.GSM7
    examples = []
    rows = audience(briefing).annotate(texted_before=Exists(campaign_texts_written().filter(to=OuterRef("mobile"))))
    for row in rows.values("pk", "first_name", "last_name", "organisation__name", "texted_before"):
        first_contact = not row["texted_before"]  # a mobile is unique within a conference: no repeats here
        info = sms_text.compose(_render_row(briefing, row), marketing=True, first_contact=first_contact)
        count += 1
        first_contacts += first_contact
        segments += info.segments
        max_segments = max(max_segments, info.segments)
        if info.encoding == sms_text.UCS2:
            encoding = sms_text.UCS2
        if len(examples) < EXAMPLES:
            examples.append(
                Example(
                    delegate_id=row["pk"],
                    name=f"{row['first_name']} {row['last_name']}".strip(),
                    text=info.text,
                    segments=info.segments,
                    first_contact=first_contact,
                )
            )
    return BriefingPreview(
        count=count,
        segments=segments,
        max_segments=max_segments,
        encoding=encoding,
        cost=sms_text.estimate_cost(segments),
        examples=examples,
        first_contacts=first_contacts,
    )
