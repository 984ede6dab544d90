"""Sending a text, the only way; opt-outs; replies; every status change with its history row.

Domain apps call send_sms() inside their own transaction; the Celery task is queued only on commit, so a
rolled-back briefing sends nothing and a committed one is never forgotten (the sweeper re-queues).
"""

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Q, Subquery, Value
from django.utils import timezone

from messaging import keywords
from messaging.errors import explain
from messaging.models import (
    FINAL_STATUSES,
    InboundMessage,
    OptOut,
    OptOutEvent,
    OutboundBatch,
    OutboundMessage,
    OutboundStatusChange,
)
from messaging.phones import normalise_mobile
from messaging.privacy import number_hash, number_hashes
from messaging.registry import ConsentDecision, check_consent, consent_for, get_reply_handler
from messaging.selectors import campaign_texts_written
from messaging.text import clean, compose

logger = logging.getLogger(__name__)
Status = OutboundMessage.Status

KEYWORD_REPLY_PURPOSE = "keyword_reply"
NO_CONSENT_CODE = "no_consent"
# The consent_basis of a text that needs none: about a shift the volunteer signed up for, a STOP confirmation.
TRANSACTIONAL = "transactional: not marketing, no consent needed"
# Forward-only: a status callback or a late worker can move a message up this ladder, never down.
_RANK = {
    Status.QUEUED: 0,
    Status.HELD: 0,
    Status.SENDING: 1,
    Status.UNKNOWN: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.UNDELIVERED: 3,
    Status.FAILED: 3,
    Status.SKIPPED: 3,
}
# What Twilio (or another provider) reports, in our terms. Our "sent" means the provider has it.
PROVIDER_STATUS = {
    "accepted": Status.SENT,
    "scheduled": Status.SENT,
    "queued": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.FAILED,
}


# --- Sending -------------------------------------------------------------------------------------


def enqueue(message_id: int, countdown: float | None = None) -> bool:
    """Hand the id to Celery; if the broker is down the row stays queued and the sweeper re-queues it.

    Returns whether the task was published. One attempt only (settings: no connection retries, a short
    connect timeout), so a broker outage costs a caller milliseconds, not seconds.
    """
    from messaging.tasks import deliver_outbound

    try:
        # No publish retries: during a broker outage each one would hold up the caller's request,
        # and the sweeper re-queues the row anyway.
        deliver_outbound.apply_async((message_id,), countdown=countdown or None, retry=False)
    except Exception as exc:  # any broker failure: the database row is the source of truth
        logger.warning("sms %s: could not queue (%s); the sweeper will retry", message_id, type(exc).__name__)
        return False
    return True


@dataclass
class _PublishBatch:
    """The tasks one transaction publishes when it commits. After its first failed publish the broker is
    taken to be down and the rest are left `queued` for the sweeper: a 1,000-text briefing during a Redis
    outage costs one failed connection, not a thousand."""

    hooks: list  # the connection's on-commit list of that transaction, which tells one transaction from the next
    failed: bool = False
    skipped: int = 0


# Per request / task (contextvars are per thread and per asyncio task), never shared between them.
_publish_batch: ContextVar[_PublishBatch | None] = ContextVar("cardvote_sms_publish_batch", default=None)


def _publish_in_batch(batch: _PublishBatch, message_id: int, countdown: float | None) -> None:
    if batch.failed:
        batch.skipped += 1
        return
    if not enqueue(message_id, countdown):
        batch.failed = True
        logger.warning("sms: broker unreachable; this transaction's other texts stay queued for the sweeper")


def enqueue_on_commit(message_id: int, countdown: float | None = None) -> None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:  # autocommit: on_commit would publish right now anyway
        enqueue(message_id, countdown)
        return
    batch = _publish_batch.get()
    if batch is None or batch.hooks is not connection.run_on_commit:
        batch = _PublishBatch(hooks=connection.run_on_commit)
        _publish_batch.set(batch)
    transaction.on_commit(partial(_publish_in_batch, batch, message_id, countdown))


def _validated(*, to: str, body: str, key: str, purpose: str, marketing: bool):
    """The number in E.164 and the composed text, or a ValidationError per field (send_sms and send_batch alike)."""
    errors = {}
    if not key or len(key) > 200:
        errors["key"] = "An idempotency key of 1–200 characters is required."
    if not purpose or len(purpose) > 60:
        errors["purpose"] = "A purpose of 1–60 characters is required."
    try:
        number = normalise_mobile(to)
    except ValidationError as exc:
        errors["to"] = exc.messages
    try:
        info = compose(body, marketing=marketing)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return number, info


def _first_status(*, expired: bool, opted_out: bool, consent: ConsentDecision | None = None) -> tuple[str, str, str]:
    """Where a new text starts: its status, the reason for its first history row, and its error code.

    ``consent``: for a marketing text, the registered apps' decision (check_consent); None for transactional.
    """
    if expired:
        return Status.SKIPPED, "already past its useless-after time", "expired"
    if opted_out:
        return Status.SKIPPED, "number is on the opt-out list", "opted_out"
    if consent is not None and not consent.allowed:
        return Status.SKIPPED, consent.reason[:200], NO_CONSENT_CODE
    return Status.QUEUED, "created", ""


def _consent_basis(*, marketing: bool, consent: ConsentDecision | None) -> str:
    """What the row records about consent: the record a marketing text relied on (or why it had none)."""
    if not marketing:
        return TRANSACTIONAL
    return consent.reason[:200] if consent is not None else ""


def _new_message(
    *,
    key,
    number,
    info,
    purpose,
    marketing,
    status,
    code,
    useless_after,
    now,
    opt_out_exempt=False,
    batch="",
    consent=None,
) -> OutboundMessage:
    """An unsaved outbox row, the same for the single and the bulk path."""
    return OutboundMessage(
        idempotency_key=key,
        to=number,
        body=info.text,
        purpose=purpose,
        batch=batch,
        marketing=marketing,
        opt_out_exempt=opt_out_exempt,
        status=status,
        useless_after=useless_after,
        segments=info.segments,
        encoding=info.encoding,
        next_attempt_at=now,
        error_code=code,
        # A refusal of consent says which ("consent withdrawn on 3 Nov 2026"), not only that there was one.
        error_message=consent.reason[:300] if code == NO_CONSENT_CODE else explain(code),
        consent_basis=_consent_basis(marketing=marketing, consent=consent),
    )


def send_sms(
    *,
    to: str,
    body: str,
    key: str,
    purpose: str,
    marketing: bool = True,
    useless_after: datetime | None = None,
    opt_out_exempt: bool = False,
) -> OutboundMessage:
    """Write the text to the outbox and queue it once the caller's transaction commits.

    Safe to call twice with the same key: the second call returns the first row and queues nothing.
    A marketing text goes only to a number some domain app holds live consent for (the registered consent
    checks); otherwise it is written `skipped`, saying why, and nothing is queued. The first campaign text to a
    number links the privacy notice. Transactional texts (``marketing=False``) are not consent-checked.
    Raises ValidationError (per field) for a bad number, an empty or over-long body, a bad key or purpose.
    """
    number, info = _validated(to=to, body=body, key=key, purpose=purpose, marketing=marketing)

    with transaction.atomic():
        existing = OutboundMessage.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        now = timezone.now()
        expired = useless_after is not None and useless_after <= now
        opted_out = not expired and not opt_out_exempt and is_opted_out(number)
        consent = None
        if marketing and not expired and not opted_out:
            consent = check_consent({number})[number]
            if consent.allowed and number not in _numbers_texted_before({number}):
                info = compose(body, marketing=True, first_contact=True)
        status, reason, code = _first_status(expired=expired, opted_out=opted_out, consent=consent)
        message = _new_message(
            key=key,
            number=number,
            info=info,
            purpose=purpose,
            marketing=marketing,
            opt_out_exempt=opt_out_exempt,
            status=status,
            code=code,
            useless_after=useless_after,
            now=now,
            consent=consent,
        )
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin must not break the caller's transaction
                message.save(force_insert=True)
        except IntegrityError:
            return OutboundMessage.objects.get(idempotency_key=key)
        OutboundStatusChange.objects.create(message=message, from_status="", to_status=status, reason=reason)
        if status == Status.QUEUED:
            enqueue_on_commit(message.pk)
    return message


def _numbers_texted_before(numbers: set[str]) -> set[str]:
    """Which of these numbers already had a campaign text written (not skipped): one query."""
    if not numbers:
        return set()
    return set(campaign_texts_written().filter(to__in=numbers).values_list("to", flat=True).distinct())


# --- Sending in bulk --------------------------------------------------------------------------------

# Ids per dispatcher task: the request publishes one task per chunk, a worker publishes the deliveries.
DISPATCH_CHUNK = 500


@dataclass(frozen=True)
class BatchText:
    to: str
    body: str
    key: str


@dataclass
class BatchResult:
    queued: list[int]  # ids written now and queued for sending
    skipped: list[int]  # ids written now as `skipped` (opted out, no consent, or past useless_after)
    existing: list[int]  # ids that already had these keys: nothing written or queued again
    held: list[int] = field(default_factory=list)  # ids written now as `held`: their batch is paused

    @property
    def total(self) -> int:
        return len(self.queued) + len(self.skipped) + len(self.existing) + len(self.held)


def send_batch(
    texts,
    *,
    purpose: str,
    marketing: bool = True,
    useless_after: datetime | None = None,
    batch: str = "",
) -> BatchResult:
    """Queue many texts at once (a briefing): the same rows and rules as send_sms, a fixed number of queries.

    ``texts``: BatchText (or (to, body, key) tuples). All or nothing: any bad row raises a ValidationError
    naming each bad row by position, and nothing is written. Keys already in the outbox are left alone (a
    re-run briefing queues nothing twice); a key repeated within the batch counts once. Numbers on the
    opt-out list, and marketing texts to numbers without live consent (one query per registered consent
    check), get `skipped` rows saying why; a number's first campaign text links the privacy notice. One bulk
    INSERT of outbox rows and one of their history rows; after commit, one dispatcher task per DISPATCH_CHUNK
    ids, which a worker turns into the per-text delivery tasks (so the request makes no broker round trip per
    text).

    ``batch`` labels the rows (e.g. "briefing:12") so that hold_batch, release_batch and cancel_batch can pause,
    resume or stop them together. Texts added to a batch that is paused start `held`; to a cancelled one, nothing
    is queued (they start `skipped`).
    """
    if len(batch) > 60:
        raise ValidationError({"batch": "A batch label has at most 60 characters."})
    rows: dict[str, tuple[str, str, object]] = {}
    errors = []
    for position, text in enumerate(texts, start=1):
        to, body, key = (text.to, text.body, text.key) if isinstance(text, BatchText) else text
        try:
            number, info = _validated(to=to, body=body, key=key, purpose=purpose, marketing=marketing)
        except ValidationError as exc:
            detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            errors.append(f"Text {position}: {detail}")
            continue
        rows.setdefault(key, (number, body, info))
    if errors:
        raise ValidationError({"texts": errors})

    now = timezone.now()
    expired = useless_after is not None and useless_after <= now
    with transaction.atomic():
        state = _batch_state(batch, lock=False) if batch else OutboundBatch.State.OPEN
        existing = dict(
            OutboundMessage.objects.filter(idempotency_key__in=list(rows)).values_list("idempotency_key", "pk")
        )
        fresh = {key: row for key, row in rows.items() if key not in existing}
        opted_out, consents, texted_before = set(), {}, set()
        if fresh and not expired:
            numbers = {number for number, _, _ in fresh.values()}
            opted_out = opted_out_numbers(numbers)
            if marketing:  # one query per registered app, and one for earlier texts, whatever the batch size
                consents = check_consent(numbers - opted_out)
                texted_before = _numbers_texted_before({n for n, c in consents.items() if c.allowed})

        messages, reasons = [], []
        for key, (number, body, info) in fresh.items():
            consent = consents.get(number)
            status, reason, code = _first_status(expired=expired, opted_out=number in opted_out, consent=consent)
            if consent is not None and consent.allowed and number not in texted_before:
                info = compose(body, marketing=True, first_contact=True)
                texted_before.add(number)  # one notice per number, even if the batch texts it twice
            if status == Status.QUEUED and state == OutboundBatch.State.HELD:
                status, reason = Status.HELD, "its batch is paused"
            elif status == Status.QUEUED and state == OutboundBatch.State.CANCELLED:
                status, reason, code = Status.SKIPPED, "its batch was cancelled", "cancelled"
            reasons.append(reason)
            messages.append(
                _new_message(
                    key=key,
                    number=number,
                    info=info,
                    purpose=purpose,
                    marketing=marketing,
                    status=status,
                    code=code,
                    useless_after=useless_after,
                    now=now,
                    batch=batch,
                    consent=consent,
                )
            )
        # A concurrent twin of this batch raises IntegrityError here, and the caller's transaction with it:
        # the briefing is then not half-queued, and pressing send again finds every key already there.
        OutboundMessage.objects.bulk_create(messages, batch_size=1000)
        OutboundStatusChange.objects.bulk_create(
            [
                OutboundStatusChange(message_id=m.pk, from_status="", to_status=m.status, reason=reason)
                for m, reason in zip(messages, reasons, strict=True)
            ],
            batch_size=1000,
        )
        queued = [m.pk for m in messages if m.status == Status.QUEUED]
        for start in range(0, len(queued), DISPATCH_CHUNK):
            transaction.on_commit(partial(dispatch, queued[start : start + DISPATCH_CHUNK]))
    return BatchResult(
        queued=queued,
        skipped=[m.pk for m in messages if m.status not in (Status.QUEUED, Status.HELD)],
        existing=list(existing.values()),
        held=[m.pk for m in messages if m.status == Status.HELD],
    )


# --- Pausing, resuming and cancelling a batch ------------------------------------------------------------------
#
# Race-free across workers without any per-process state: a worker takes a text only through the conditional
# claim (queued → sending), and these services move a batch's waiting texts out of `queued` with a conditional
# UPDATE on rows they have locked, so for each text exactly one of them wins. Texts already claimed are in a
# worker's hands: the worker reads the batch's state (OutboundBatch) again just before calling the provider and
# holds or skips the text there, so a retry or a re-queued unknown outcome of a paused batch is never sent.

# Ids per UPDATE / history INSERT, so a conference-sized batch stays well inside every database's parameter limit.
_BATCH_CHUNK = 2000


@dataclass
class BatchChange:
    batch: str
    state: str  # the batch's state afterwards
    changed: int  # texts moved by this call


def _batch_state(label: str, *, lock: bool) -> str:
    rows = OutboundBatch.objects.filter(label=label)
    if lock:
        rows = rows.select_for_update()
    return rows.values_list("state", flat=True).first() or OutboundBatch.State.OPEN


def _lock_batch(label: str) -> OutboundBatch:
    if not label:
        raise ValidationError({"batch": "A batch label is required."})
    row, _created = OutboundBatch.objects.select_for_update().get_or_create(label=label[:60])
    return row


def _move_batch(label: str, *, from_statuses, to: str, reason: str, error_code: str = "", **fields) -> list[int]:
    """Move this batch's texts in ``from_statuses`` to ``to``: lock them, one UPDATE and one history INSERT per
    chunk. A worker's claim waiting on one of these rows finds it no longer `queued` and gives up."""
    ids = list(
        OutboundMessage.objects.select_for_update()
        .filter(batch=label, status__in=list(from_statuses))
        .order_by("pk")
        .values_list("pk", "status")
    )
    now = timezone.now()
    if error_code:
        fields.update(error_code=error_code, error_message=explain(error_code))
    for start in range(0, len(ids), _BATCH_CHUNK):
        chunk = ids[start : start + _BATCH_CHUNK]
        OutboundMessage.objects.filter(pk__in=[pk for pk, _ in chunk]).update(status=to, updated_at=now, **fields)
        OutboundStatusChange.objects.bulk_create(
            [
                OutboundStatusChange(
                    message_id=pk, from_status=status, to_status=to, reason=reason, error_code=error_code
                )
                for pk, status in chunk
            ]
        )
    return [pk for pk, _ in ids]


def hold_batch(batch: str) -> BatchChange:
    """Pause a batch: its `queued` texts become `held`, which no worker can claim; texts a worker already holds
    are held by the worker before it calls the provider. Idempotent. A cancelled batch stays cancelled."""
    with transaction.atomic():
        row = _lock_batch(batch)
        if row.state == OutboundBatch.State.CANCELLED:
            return BatchChange(batch=batch, state=row.state, changed=0)
        row.state, row.reason = OutboundBatch.State.HELD, ""
        row.save(update_fields=["state", "reason", "updated_at"])
        moved = _move_batch(batch, from_statuses={Status.QUEUED}, to=Status.HELD, reason="batch paused")
    logger.info("sms batch %s: paused, %s texts held", batch, len(moved))
    return BatchChange(batch=batch, state=OutboundBatch.State.HELD, changed=len(moved))


def release_batch(batch: str) -> BatchChange:
    """Resume a paused batch: its `held` texts go back to `queued`, due now, and are published after commit
    through the dispatcher in chunks. A cancelled batch cannot be resumed (ValidationError)."""
    with transaction.atomic():
        row = _lock_batch(batch)
        if row.state == OutboundBatch.State.CANCELLED:
            raise ValidationError({"batch": "This batch was cancelled; it cannot be resumed."})
        row.state, row.reason = OutboundBatch.State.OPEN, ""
        row.save(update_fields=["state", "reason", "updated_at"])
        moved = _move_batch(
            batch, from_statuses={Status.HELD}, to=Status.QUEUED, reason="batch resumed", next_attempt_at=timezone.now()
        )
        for start in range(0, len(moved), DISPATCH_CHUNK):
            transaction.on_commit(partial(dispatch, moved[start : start + DISPATCH_CHUNK]))
    logger.info("sms batch %s: resumed, %s texts queued again", batch, len(moved))
    return BatchChange(batch=batch, state=OutboundBatch.State.OPEN, changed=len(moved))


def cancel_batch(batch: str, *, reason: str = "") -> BatchChange:
    """Stop a batch for good: its `queued` and `held` texts become `skipped` (error code "cancelled"). Texts
    already handed to the provider are left alone; one a worker holds is skipped by the worker unless it is
    already on its way. Idempotent."""
    with transaction.atomic():
        row = _lock_batch(batch)
        row.state, row.reason = OutboundBatch.State.CANCELLED, (reason or "")[:200]
        row.save(update_fields=["state", "reason", "updated_at"])
        moved = _move_batch(
            batch,
            from_statuses={Status.QUEUED, Status.HELD},
            to=Status.SKIPPED,
            reason=f"cancelled: {reason}"[:200] if reason else "cancelled",
            error_code="cancelled",
        )
    logger.info("sms batch %s: cancelled, %s texts skipped", batch, len(moved))
    return BatchChange(batch=batch, state=OutboundBatch.State.CANCELLED, changed=len(moved))


def dispatch(message_ids: list[int]) -> bool:
    """Publish one dispatcher task for these ids; if the broker is down they stay queued for the sweeper."""
    from messaging.tasks import dispatch_outbound

    try:
        dispatch_outbound.apply_async((message_ids,), queue=settings.CELERY_TASK_DEFAULT_QUEUE, retry=False)
    except Exception as exc:  # any broker failure: the rows are written and the sweeper re-queues them
        logger.warning("sms: could not queue %s texts (%s); the sweeper will", len(message_ids), type(exc).__name__)
        return False
    return True


def transition(
    message_id: int,
    *,
    to: str,
    allowed_from: set[str] | frozenset[str],
    reason: str = "",
    error_code: str | None = None,
    attempt: int | None = None,
    **fields,
) -> bool:
    """Move one message to `to` if it is in one of `allowed_from` (and, given `attempt`, still that claim).

    The conditional UPDATE is the guard, so concurrent callers cannot both win; the history row is written
    in the same transaction. Returns whether the change happened.
    """
    now = timezone.now()
    if to in (Status.SENT,) and "sent_at" not in fields:
        fields["sent_at"] = now
    if to == Status.DELIVERED and "delivered_at" not in fields:
        fields["delivered_at"] = now
    with transaction.atomic():
        current = (
            OutboundMessage.objects.select_for_update().filter(pk=message_id).values_list("status", "attempts").first()
        )
        if current is None or current[0] not in allowed_from:
            return False
        if attempt is not None and current[1] != attempt:
            return False
        qs = OutboundMessage.objects.filter(pk=message_id, status=current[0])
        if attempt is not None:
            qs = qs.filter(attempts=attempt)
        if error_code is not None:  # "" clears an earlier error (a retry that went through)
            fields["error_code"] = str(error_code)[:16]
        updated = qs.update(status=to, updated_at=now, **fields)
        if not updated:
            return False
        if current[0] != to:
            OutboundStatusChange.objects.create(
                message_id=message_id,
                from_status=current[0],
                to_status=to,
                reason=reason[:200],
                error_code=str(error_code or "")[:16],
            )
    return True


def skip_without_consent(message: OutboundMessage, *, attempt: int) -> bool:
    """At delivery, just before the provider call: a campaign text whose number lost its consent after it was
    queued (a coordinator recorded a withdrawal) is skipped as send_sms and send_batch skip one at queue time:
    error code "no_consent", the reason in words ("consent withdrawn on 3 Nov 2026"). Usually one query
    (registry.consent_for). Returns True if the text must not be sent (skipped now, or its claim was lost)."""
    if not message.marketing:
        return False
    consent = consent_for(message.to)
    if consent.allowed:
        return False
    transition(
        message.pk,
        to=Status.SKIPPED,
        allowed_from={Status.SENDING},
        attempt=attempt,
        reason=consent.reason[:200],
        error_code=NO_CONSENT_CODE,
        error_message=consent.reason[:300],
    )
    logger.info("sms %s: skipped at delivery, no live consent", message.pk)
    return True


def claim(message_id: int) -> OutboundMessage | None:
    """queued → sending, as one conditional UPDATE: of two workers holding the same id, exactly one wins."""
    now = timezone.now()
    with transaction.atomic():
        due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
        won = OutboundMessage.objects.filter(due, pk=message_id, status=Status.QUEUED).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
        if not won:
            return None
        OutboundStatusChange.objects.create(
            message_id=message_id, from_status=Status.QUEUED, to_status=Status.SENDING, reason="claimed by a worker"
        )
    return OutboundMessage.objects.get(pk=message_id)


def record_provider_status(message: OutboundMessage, *, sid: str, provider_status: str, error_code: str = "") -> bool:
    """Apply what the provider says about one of our messages (status callback or lookup); only ever forward."""
    target = PROVIDER_STATUS.get((provider_status or "").strip().lower())
    if target is None:
        return False
    allowed = {s for s, rank in _RANK.items() if rank < _RANK[target]}
    fields = {}
    if sid and not message.provider_sid:
        fields["provider_sid"] = sid
    if error_code and target in (Status.UNDELIVERED, Status.FAILED):
        fields["error_message"] = explain(error_code) or f"Provider error {error_code}"
    elif target in (Status.SENT, Status.DELIVERED):
        fields["error_message"] = ""  # e.g. the timeout that made it `unknown`; the history keeps it
    reason = f"provider reported {provider_status.strip().lower()[:40]}"
    try:
        return transition(
            message.pk, to=target, allowed_from=allowed, reason=reason, error_code=error_code[:16], **fields
        )
    except IntegrityError:  # that SID already belongs to another row: not this message's send
        logger.warning("sms %s: provider SID already recorded on another message; ignored", message.pk)
        return False


# --- Opt-out -------------------------------------------------------------------------------------


def number_key(number: str) -> str:
    try:
        return normalise_mobile(number)
    except ValidationError:
        return clean(number)[:32]


# Above this many numbers, opted_out_numbers reads the whole opt-out list instead of asking for each number: the
# list is small next to a briefing, and `number IN (…) OR number_hash IN (…)` over 5,045 numbers took PostgreSQL
# 0.45 s to plan and run against a few milliseconds for the list. Below it, the targeted query is cheaper.
OPT_OUT_SCAN_ABOVE = 200


def _opt_out_match(numbers, hashes=None) -> Q:
    """Rows for these numbers, by the number or by its keyed hash: an erased row keeps only the hash.
    ``hashes``: {keyed hash: number} when the caller has them already."""
    numbers = {n for n in numbers if n}
    if hashes is None:
        hashes = {hashed: number for number, hashed in number_hashes(numbers).items()}
    return Q(number__in=numbers) | Q(number_hash__in=set(hashes))


def opted_out_numbers(numbers) -> set[str]:
    """Which of these (E.164) numbers are on the opt-out list, by the number or by its keyed hash: ONE query for
    any number of them (a briefing's batch reads the whole list; see OPT_OUT_SCAN_ABOVE)."""
    numbers = {n for n in numbers if n}
    if not numbers:
        return set()
    if len(numbers) <= OPT_OUT_SCAN_ABOVE:
        by_hash = {hashed: number for number, hashed in number_hashes(numbers).items()}
        rows = OptOut.objects.filter(_opt_out_match(numbers, by_hash), opted_out=True)
    else:
        by_hash, rows = None, OptOut.objects.filter(opted_out=True)
    found, erased_hashes = set(), set()
    for number, hashed in rows.values_list("number", "number_hash"):
        if number in numbers:
            found.add(number)
        elif not number:  # an erased row: only its keyed hash tells whose it was
            erased_hashes.add(hashed)
    if erased_hashes:  # hashing thousands only when the list holds an erased row
        if by_hash is None:
            by_hash = {hashed: number for number, hashed in number_hashes(numbers - found).items()}
        found |= {by_hash[hashed] for hashed in erased_hashes if hashed in by_hash}
    return found


def is_opted_out(number: str) -> bool:
    return bool(opted_out_numbers({number_key(number)}))


@dataclass(frozen=True)
class LastLook:
    to: str | None  # the row's number now (None: the row is gone)
    opted_out: bool
    batch_state: str


def last_look(message: OutboundMessage) -> LastLook:
    """A claimed text's number, opt-out and batch state read fresh in ONE query: a worker runs this before the
    rate limiter's try that admits the text (tasks.deliver), and again while the text waits."""
    number = number_key(message.to)
    opted_out = Exists(OptOut.objects.filter(_opt_out_match({number}), opted_out=True)) if number else Value(False)
    batch = OutboundBatch.objects.filter(label=message.batch).values("state")[:1]
    row = (
        OutboundMessage.objects.filter(pk=message.pk)
        .annotate(opted_out_now=opted_out, batch_state_now=Subquery(batch))
        .values_list("to", "opted_out_now", "batch_state_now")
        .first()
    )
    if row is None:
        return LastLook(to=None, opted_out=False, batch_state=OutboundBatch.State.OPEN)
    to, opted, state = row
    return LastLook(to=to, opted_out=bool(opted), batch_state=state or OutboundBatch.State.OPEN)


def _set_opt_out(number: str, *, opted_out: bool, source: str, keyword: str) -> bool:
    number = number_key(number)
    if not number:
        raise ValidationError({"number": "A phone number is required."})
    hashed = number_hash(number)
    with transaction.atomic():
        row = OptOut.objects.select_for_update().filter(_opt_out_match({number})).order_by("-number").first()
        created = False
        if row is None:
            try:
                with transaction.atomic():  # a savepoint: a concurrent first STOP from the same number
                    row = OptOut.objects.create(number=number, number_hash=hashed, opted_out=opted_out)
                    created = True
            except IntegrityError:
                row = OptOut.objects.select_for_update().get(number_hash=hashed)
        changed = created or row.opted_out != opted_out
        if not created and (changed or row.number_hash != hashed):
            row.opted_out = opted_out
            row.number_hash = hashed  # the hash key was rotated since: match the new key from now on
            row.save(update_fields=["opted_out", "number_hash", "updated_at"])
        OptOutEvent.objects.create(
            opt_out=row,
            number=number,
            action=OptOutEvent.Action.OPT_OUT if opted_out else OptOutEvent.Action.OPT_IN,
            source=source,
            keyword=(keyword or "")[:40],
        )
    return changed


def opt_out(number: str, *, source: str, keyword: str = "") -> bool:
    """Put a number on the opt-out list (with a history row). Returns True if it was not opted out before."""
    return _set_opt_out(number, opted_out=True, source=source, keyword=keyword)


def opt_in(number: str, *, source: str, keyword: str = "") -> bool:
    """Take a number off the opt-out list: only when the person asks (START), or a coordinator records consent."""
    return _set_opt_out(number, opted_out=False, source=source, keyword=keyword)


def forget_opt_out_number(*, number: str) -> int:
    """Erasure's part of the opt-out list: blank the number on its row and events, keep the keyed hash.

    The send paths match on the hash too, so the person is still never texted. Returns the rows changed.
    """
    number = number_key(number)
    if not number:
        return 0
    with transaction.atomic():
        rows = list(OptOut.objects.select_for_update().filter(_opt_out_match({number})).values_list("pk", flat=True))
        changed = OptOut.objects.filter(pk__in=rows).exclude(number="").update(number="")
        OptOutEvent.objects.filter(opt_out_id__in=rows).exclude(number="").update(number="")
    return changed


def has_hash_only_opt_outs() -> bool:
    """Whether any opt-out row keeps only its keyed hash (its owner was erased): one query, usually False."""
    return OptOut.objects.filter(number="").exists()


def relink_opt_outs(*, numbers, via: str = "") -> int:
    """Numbers (E.164) held again (a delegate or volunteer saved with them): put each back on its hash-only opt-out row.

    Erasure blanks an opt-out's number and keeps the keyed hash (forget_opt_out_number). Once a record holds the
    number again, the opt-out is that person's data again, and matching it by number is what lets every query
    (delegates' ``can_be_texted``, the volunteer admin) honour it without the hash key in SQL. Each re-link
    writes an OptOutEvent ("Number held again", ``via`` naming the writer); a later erasure blanks both again.

    Call it inside the writer's transaction (the number and its opt-out commit together). ONE query when nothing
    matches, whatever the count of numbers: a few are hashed and looked up by hash; many (an import, the sweep)
    read the hash-only rows first and hash only if there are any. Returns the rows re-linked.
    """
    # E.164 as the records store it; an erased volunteer's placeholder mobile is not a number.
    numbers = {number for number in numbers if number and number.startswith("+")}
    if not numbers:
        return 0
    hash_only = OptOut.objects.filter(number="")
    # savepoint=False: no SAVEPOINT round trips inside the caller's transaction; nothing here needs a partial undo.
    with transaction.atomic(savepoint=False):
        if len(numbers) <= OPT_OUT_SCAN_ABOVE:
            by_hash = {hashed: number for number, hashed in number_hashes(numbers).items()}
            rows = list(hash_only.select_for_update().filter(number_hash__in=by_hash).values_list("pk", "number_hash"))
        else:
            listed = list(hash_only.values_list("pk", "number_hash"))
            if not listed:
                return 0
            by_hash = {hashed: number for number, hashed in number_hashes(numbers).items()}
            matched = [pk for pk, hashed in listed if hashed in by_hash]
            # Locked and read again: a concurrent re-link or START may have got there first.
            rows = (
                list(hash_only.select_for_update().filter(pk__in=matched).values_list("pk", "number_hash"))
                if matched
                else []
            )
        if not rows:
            return 0
        # A number on another row already (only after a key rotation): that row is the one matched by number.
        taken = set(
            OptOut.objects.filter(number__in=[by_hash[hashed] for _, hashed in rows]).values_list("number", flat=True)
        )
        now = timezone.now()
        events = []
        for pk, hashed in rows:
            number = by_hash[hashed]
            if number in taken or not OptOut.objects.filter(pk=pk, number="").update(number=number, updated_at=now):
                continue
            events.append(
                OptOutEvent(
                    opt_out_id=pk,
                    number=number,
                    action=OptOutEvent.Action.RELINK,
                    source=OptOutEvent.Source.RECORD,
                    keyword=via[:40],
                )
            )
        OptOutEvent.objects.bulk_create(events)
    if events:
        logger.info("opt-outs: %s re-linked to numbers held again (%s)", len(events), via or "unnamed writer")
    return len(events)


# --- Replies -------------------------------------------------------------------------------------


def _sender() -> str:
    return clean(settings.SMS_SENDER_NAME) or "We"


def _reply(number: str, body: str, key: str) -> OutboundMessage | None:
    try:
        return send_sms(
            to=number, body=body, key=key, purpose=KEYWORD_REPLY_PURPOSE, marketing=False, opt_out_exempt=True
        )
    except ValidationError:  # e.g. a short code or a foreign landline: nothing we can text back
        return None


def stop_confirmation_text() -> str:
    return f"{_sender()}: you will get no more texts from us. Reply START to opt back in."


def start_confirmation_text() -> str:
    return f"{_sender()}: you will get our texts again. Reply STOP to opt out at any time."


def help_text() -> str:
    return (
        f"This is {_sender()}. We text delegates and volunteers who asked to hear from us at conference. "
        "Reply STOP to stop all texts, START to get them again."
    )


def _handle_keyword(inbound: InboundMessage, keyword: str, raw_word: str) -> None:
    number = inbound.from_number
    if keyword == keywords.STOP:
        changed = opt_out(number, source=OptOutEvent.Source.SMS_KEYWORD, keyword=raw_word)
        if changed:
            # One confirmation per opt-out: only the STOP that changed the state gets one, so repeated
            # STOPs get none; someone who opted back in and stops again is told again.
            _reply(number, stop_confirmation_text(), f"optout-confirmation:{inbound.pk}")
    elif keyword == keywords.START:
        if opt_in(number, source=OptOutEvent.Source.SMS_KEYWORD, keyword=raw_word):
            _reply(number, start_confirmation_text(), f"optin-confirmation:{inbound.pk}")
    elif keyword == keywords.HELP:
        _reply(number, help_text(), f"help:{inbound.pk}")


def receive_inbound(
    *, from_number: str, to_number: str, body: str, provider_sid: str, provider_keyword: str = ""
) -> InboundMessage:
    """Store a reply once (by provider SID), act on STOP / START / HELP, else hand it to the purpose's handler.

    provider_keyword: Twilio's own reading (OptOutType), which also knows other languages' STOP words.
    """
    provider_sid = (provider_sid or "")[:64]
    body = (body or "").replace("\x00", "")[:1600]
    number = number_key(from_number or "")
    with transaction.atomic():
        if provider_sid:
            existing = InboundMessage.objects.filter(provider_sid=provider_sid).first()
            if existing is not None:
                return existing
        keyword = keywords.parse_keyword(body)
        if not keyword and (provider_keyword or "").upper() in (keywords.STOP, keywords.START, keywords.HELP):
            keyword = provider_keyword.upper()
        # A plain-words request to stop inside a longer text: kept unhandled, at the top of the inbox.
        looks_like_opt_out = not keyword and keywords.looks_like_opt_out(body)
        in_reply_to = (
            OutboundMessage.objects.filter(to=number).exclude(purpose=KEYWORD_REPLY_PURPOSE).order_by("-id").first()
        )
        now = timezone.now()
        try:
            with transaction.atomic():
                inbound = InboundMessage.objects.create(
                    from_number=number,
                    to_number=clean(to_number or "")[:32],
                    body=body,
                    provider_sid=provider_sid,
                    purpose=in_reply_to.purpose if in_reply_to else "",
                    in_reply_to=in_reply_to,
                    keyword=keyword,
                    looks_like_opt_out=looks_like_opt_out,
                    handled=bool(keyword),
                    handled_at=now if keyword else None,
                )
        except IntegrityError:  # Twilio's retry raced the first delivery
            return InboundMessage.objects.get(provider_sid=provider_sid)
        if keyword:
            raw_word = clean(body).split()[0][:40] if clean(body) else keyword
            _handle_keyword(inbound, keyword, raw_word)
            return inbound
        handler = get_reply_handler(inbound.purpose)
        if handler is not None:
            try:
                with transaction.atomic():
                    done = handler(inbound)
                    if done and not looks_like_opt_out:
                        InboundMessage.objects.filter(pk=inbound.pk).update(handled=True, handled_at=timezone.now())
                        inbound.handled, inbound.handled_at = True, timezone.now()
            except Exception as exc:  # a domain bug must not lose the reply: it stays unhandled in the inbox
                logger.error(
                    "inbound %s: reply handler for %s failed (%s)", inbound.pk, inbound.purpose, type(exc).__name__
                )
    return inbound


def opt_out_from_reply(inbound: InboundMessage, *, by) -> bool:
    """A coordinator honours a reply that asked to stop in plain words: one tap in the inbox.

    Opts the number out (an OptOutEvent with source "inbox"), confirms once by text as a STOP would, and
    marks the reply handled by ``by``. Returns True if the number was not opted out before.
    """
    with transaction.atomic():
        changed = opt_out(inbound.from_number, source=OptOutEvent.Source.INBOX, keyword=f"reply {inbound.pk}")
        if changed:
            _reply(inbound.from_number, stop_confirmation_text(), f"optout-confirmation:{inbound.pk}")
        if not inbound.handled:
            mark_inbound_handled(inbound, by=by)
    return changed


def mark_inbound_handled(inbound: InboundMessage, *, by, handled: bool = True) -> InboundMessage:
    """A coordinator dealt with a reply (or un-ticks it)."""
    inbound.handled = handled
    inbound.handled_at = timezone.now() if handled else None
    inbound.handled_by = by if handled else None
    inbound.save(update_fields=["handled", "handled_at", "handled_by"])
    return inbound


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES
