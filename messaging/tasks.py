"""Celery tasks on the `sms` queue: deliver one message (by id), and sweep the outbox.

deliver: claim (conditional UPDATE queued → sending, committed) → expired? → erased, opted out, consent
withdrawn, batch paused? (looked at again while it waits) → admission by the global rate limiter → the provider
call, outside any transaction (the limiter's window restarts once the request is written) → record the outcome.
A worker that dies anywhere in between leaves a row that the sweeper finds: `queued` rows are re-queued,
`sending` rows become `unknown`, and `unknown` rows are settled by asking the provider before any re-send.
"""

import functools
import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.db import IntegrityError
from django.db.models import Max, Q
from django.utils import timezone

from messaging import ratelimit, services
from messaging.backends import (
    PermanentSendError,
    SendError,
    TransientSendError,
    UnknownOutcomeError,
    get_backend,
)
from messaging.errors import explain
from messaging.models import OptOutEvent, OutboundBatch, OutboundMessage
from messaging.privacy import ERASED_NUMBER

logger = logging.getLogger(__name__)
Status = OutboundMessage.Status

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 300
# A worker waits at most this long for the rate limiter to admit a text; beyond it the text goes back to the queue.
RATE_MAX_WAIT_SECONDS = 20
# Wait this long after a claim for Twilio's status callback before asking Twilio about an `unknown` row.
UNKNOWN_GRACE_SECONDS = 60
# A `queued` row due this long ago may have been lost (broker outage, a killed worker's prefetch).
QUEUED_GRACE_SECONDS = 60
QUEUED_MAX_AGE_SECONDS = 300
SWEEP_BATCH = 500


def stale_sending_seconds() -> int:
    """Longer than a live worker can hold a claim: rate-limit wait + connect and read timeouts + slack."""
    return int(max(90, RATE_MAX_WAIT_SECONDS + 3 * settings.TWILIO_TIMEOUT_SECONDS + 30))


def backoff_seconds(attempt: int) -> int:
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0), BACKOFF_MAX_SECONDS)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, time_limit=stale_sending_seconds() - 10)
def deliver_outbound(message_id: int) -> str:
    return deliver(int(message_id))


@shared_task(ignore_result=True, time_limit=300)
def sweep_outbox() -> dict:
    return sweep()


@shared_task(ignore_result=True, acks_late=True, time_limit=300)
def dispatch_outbound(message_ids: list[int]) -> int:
    """Turn one batch (services.send_batch) into a delivery task per text, published over one connection.

    Done in a worker so that the request that queued a briefing made one publish, not thousands. If this
    stops halfway (broker lost, worker killed), the rest stay `queued` and the sweeper re-queues them; a
    task published twice is harmless (only one claim wins).
    """
    published = 0
    with deliver_outbound.app.producer_or_acquire() as producer:
        for message_id in message_ids:
            try:
                deliver_outbound.apply_async((int(message_id),), producer=producer, retry=False)
            except Exception as exc:  # the broker went away: the sweeper has the rest
                reason = type(exc).__name__
                logger.warning("sms dispatch: stopped at %s of %s (%s)", published, len(message_ids), reason)
                break
            published += 1
    return published


def deliver(message_id: int) -> str:
    message = services.claim(message_id)
    if message is None:
        return "not-claimed"  # another worker has it, or it was already settled: a duplicate task is harmless
    attempt = message.attempts
    fence = {"allowed_from": {Status.SENDING}, "attempt": attempt}
    now = timezone.now()
    if message.useless_after and message.useless_after <= now:
        services.transition(
            message_id,
            to=Status.SKIPPED,
            reason="expired before sending",
            error_code="expired",
            error_message=explain("expired"),
            **fence,
        )
        return "skipped"
    # Erased, opted out, consent withdrawn, batch paused or cancelled? Looked at now, and again while the text
    # waits for the rate limiter whenever this look would be more than LOOK_FRESH_SECONDS old at admission.
    if (stopped := _stop_before_sending(message, attempt)) is not None:
        return stopped

    def still_wanted() -> bool:
        nonlocal stopped
        stopped = _stop_before_sending(message, attempt)
        return stopped is None

    admitted = ratelimit.acquire(cost=message.segments, max_wait=RATE_MAX_WAIT_SECONDS, still_wanted=still_wanted)
    if stopped is not None:
        return stopped
    if not admitted:
        # Busy for a while yet: give the claim back without counting it, and come back later.
        if services.transition(
            message_id,
            to=Status.QUEUED,
            reason="rate limit busy",
            attempts=attempt - 1,
            next_attempt_at=now + timedelta(seconds=RATE_MAX_WAIT_SECONDS),
            **fence,
        ):
            services.enqueue(message_id, countdown=RATE_MAX_WAIT_SECONDS)
        return "deferred"
    try:
        # The text's window at the limiter restarts once its request has left (ratelimit.request_left).
        result = get_backend().send(message, left=functools.partial(ratelimit.request_left, admitted))
    except TransientSendError as exc:
        return _transient(message, attempt, exc)
    except PermanentSendError as exc:
        return _permanent(message, attempt, exc)
    except UnknownOutcomeError as exc:
        _unknown(message, attempt, exc.code, exc.message)
        return "unknown"
    except Exception as exc:  # a bug after the request may have gone out: treat as unknown, never re-send blindly
        logger.error("sms %s: backend raised %s", message_id, type(exc).__name__)
        _unknown(message, attempt, "error", f"Unexpected error ({type(exc).__name__})")
        return "unknown"

    target = services.PROVIDER_STATUS.get((result.status or "").lower(), Status.SENT)
    fields = {"provider_sid": result.sid, "error_code": "", "error_message": ""}
    if result.segments:
        fields["segments"] = result.segments
    try:
        recorded = services.transition(
            message_id,
            to=target,
            allowed_from={Status.SENDING, Status.UNKNOWN},
            attempt=attempt,
            reason="accepted by the provider",
            **fields,
        )
        if not recorded:
            # The status callback got here first and moved it on: keep its status, add the SID.
            OutboundMessage.objects.filter(pk=message_id, provider_sid="").update(provider_sid=result.sid)
    except IntegrityError:
        logger.warning("sms %s: provider SID already recorded on another message", message_id)
    logger.info("sms %s: sent (attempt %s)", message_id, attempt)
    return "sent"


def _stop_before_sending(message: OutboundMessage, attempt: int) -> str | None:
    """Read the claimed text's row, opt-out and batch afresh (services.last_look, one query) and, for a
    campaign text, its consent (one more), and settle it if it must not go: skipped if its person was erased,
    opted out or withdrew consent; held or skipped if its batch was paused or cancelled (hold_batch and
    cancel_batch move the batch's `queued` texts themselves; this catches those a worker had already claimed,
    retries included). Returns deliver's result for a text settled here, or None if it may go."""
    fence = {"allowed_from": {Status.SENDING}, "attempt": attempt}
    look = services.last_look(message)
    if held_back := _held_back(message, look):
        services.transition(
            message.pk,
            to=Status.SKIPPED,
            reason="erased" if held_back == "erased" else "opted out before sending",
            error_code=held_back,
            error_message=explain(held_back),
            **fence,
        )
        return "skipped"
    if services.skip_without_consent(message, attempt=attempt):
        return "skipped"
    if look.batch_state == OutboundBatch.State.HELD:
        # Not an attempt: the claim is given back uncounted, and release_batch queues the text again.
        services.transition(message.pk, to=Status.HELD, reason="batch paused", attempts=attempt - 1, **fence)
        return "held"
    if look.batch_state == OutboundBatch.State.CANCELLED:
        services.transition(
            message.pk,
            to=Status.SKIPPED,
            reason="batch cancelled",
            error_code="cancelled",
            error_message=explain("cancelled"),
            **fence,
        )
        return "skipped"
    return None


def _held_back(message: OutboundMessage, look: services.LastLook) -> str:
    """The person was erased or texted STOP (since the text was queued, or while it waited for the rate
    limiter). Nothing is texted after an erasure. Returns the reason ("erased", "opted_out") or ""."""
    if look.to is None or ERASED_NUMBER in (look.to, message.to):
        return "erased"
    if not message.opt_out_exempt and look.opted_out:
        return "opted_out"
    return ""


def _transient(message: OutboundMessage, attempt: int, exc: TransientSendError) -> str:
    fence = {"allowed_from": {Status.SENDING}, "attempt": attempt}
    text = (explain(exc.code) or exc.message)[:300]
    if attempt >= MAX_ATTEMPTS:
        services.transition(
            message.pk,
            to=Status.FAILED,
            reason=f"gave up after {attempt} attempts",
            error_code=exc.code,
            error_message=f"Gave up after {attempt} attempts: {text}"[:300],
            **fence,
        )
        logger.warning("sms %s: failed after %s transient errors (%s)", message.pk, attempt, exc.code)
        return "failed"
    delay = backoff_seconds(attempt)
    if services.transition(
        message.pk,
        to=Status.QUEUED,
        reason=f"transient error, retry in {delay}s",
        error_code=exc.code,
        error_message=text,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        **fence,
    ):
        services.enqueue(message.pk, countdown=delay)
    logger.info("sms %s: transient error %s, retry in %ss", message.pk, exc.code, delay)
    return "retry"


def _permanent(message: OutboundMessage, attempt: int, exc: PermanentSendError) -> str:
    fence = {"allowed_from": {Status.SENDING}, "attempt": attempt}
    text = (explain(exc.code) or exc.message)[:300]
    if exc.code == "21610":
        services.opt_out(message.to, source=OptOutEvent.Source.TWILIO_21610)
        services.transition(
            message.pk,
            to=Status.SKIPPED,
            reason="provider says unsubscribed",
            error_code=exc.code,
            error_message=text,
            **fence,
        )
        return "skipped"
    services.transition(
        message.pk,
        to=Status.FAILED,
        reason="refused by the provider",
        error_code=exc.code,
        error_message=text,
        **fence,
    )
    logger.info("sms %s: failed permanently (%s)", message.pk, exc.code)
    return "failed"


def _unknown(message: OutboundMessage, attempt: int, code: str, text: str) -> None:
    services.transition(
        message.pk,
        to=Status.UNKNOWN,
        allowed_from={Status.SENDING},
        attempt=attempt,
        reason="outcome unknown",
        error_code=code,
        error_message=(explain(code) or text)[:300],
    )
    logger.warning("sms %s: outcome unknown (%s); the sweeper will ask the provider", message.pk, code)


# --- The sweeper ---------------------------------------------------------------------------------


def resolve_unknown(message: OutboundMessage) -> str:
    """Ask the provider whether it has this text before deciding to re-send it or give up."""
    since = (message.claimed_at or message.created_at) - timedelta(minutes=1)
    try:
        found = get_backend().find_sent(message.to, since)
    except SendError as exc:
        logger.warning("sms %s: could not ask the provider (%s); will try again", message.pk, exc.code)
        return "ask-failed"
    sids = [sid for sid, _status in found]
    claimed_elsewhere = set(
        OutboundMessage.objects.filter(provider_sid__in=sids)
        .exclude(pk=message.pk)
        .values_list("provider_sid", flat=True)
    )
    candidates = [(sid, status) for sid, status in found if sid not in claimed_elsewhere]
    if candidates:
        sid, status = candidates[0]
        if status.lower() not in services.PROVIDER_STATUS:
            status = "sent"
        services.record_provider_status(message, sid=sid, provider_status=status)
        return "found"
    now = timezone.now()
    if message.useless_after and message.useless_after <= now:
        services.transition(
            message.pk,
            to=Status.SKIPPED,
            allowed_from={Status.UNKNOWN},
            reason="provider has no record; expired",
            error_code="expired",
            error_message=explain("expired"),
        )
        return "expired"
    if message.attempts >= MAX_ATTEMPTS:
        services.transition(
            message.pk,
            to=Status.FAILED,
            allowed_from={Status.UNKNOWN},
            reason=f"provider has no record after {message.attempts} attempts",
            error_code=message.error_code,
            error_message=f"Not sent: {message.attempts} attempts ended without an answer from the provider.",
        )
        return "failed"
    if services.transition(
        message.pk,
        to=Status.QUEUED,
        allowed_from={Status.UNKNOWN},
        reason="provider has no record; re-queued",
        next_attempt_at=now,
    ):
        services.enqueue(message.pk)
    return "requeued"


def sweep() -> dict:
    """Expire, settle and re-queue: what a lost task, a dead worker or a broker outage left behind."""
    now = timezone.now()
    counts = {"expired": 0, "stale": 0, "resolved": 0, "requeued": 0}
    outbox = OutboundMessage.objects

    # Held texts (a paused batch) are never re-queued here, but they do expire: resuming late sends nothing stale.
    waiting = [Status.QUEUED, Status.HELD]
    for pk in outbox.filter(status__in=waiting, useless_after__lte=now).values_list("pk", flat=True)[:SWEEP_BATCH]:
        counts["expired"] += services.transition(
            pk,
            to=Status.SKIPPED,
            allowed_from=set(waiting),
            reason="expired in the queue",
            error_code="expired",
            error_message=explain("expired"),
        )

    stale_before = now - timedelta(seconds=stale_sending_seconds())
    stale = outbox.filter(status=Status.SENDING, claimed_at__lte=stale_before).values_list("pk", flat=True)
    for pk in stale[:SWEEP_BATCH]:
        counts["stale"] += services.transition(
            pk,
            to=Status.UNKNOWN,
            allowed_from={Status.SENDING},
            reason="worker lost while sending",
            error_code="worker_lost",
            error_message="The worker stopped mid-send; asking the provider.",
        )

    unknown = outbox.filter(status=Status.UNKNOWN, claimed_at__lte=now - timedelta(seconds=UNKNOWN_GRACE_SECONDS))
    for message in unknown.order_by("claimed_at")[:100]:
        counts["resolved"] += resolve_unknown(message) != "ask-failed"

    counts["requeued"] = _requeue_stuck(now)
    if any(counts.values()):
        logger.info("sms sweep: %s", counts)
    return counts


def _requeue_stuck(now) -> int:
    """Re-queue `queued` rows whose task was probably lost. A duplicate task is harmless (the claim picks
    one), so this errs towards re-queuing, but not so eagerly that a long batch floods the broker.

    A due row is stuck when the queue is idle (no claim for a minute), when a row due after it was claimed
    30 s ago (the broker is first-in first-out, so it was skipped: a killed worker's prefetch), or when it
    has waited five minutes. Re-queuing resets its due time, so each row is re-queued at most once a minute.
    """
    outbox = OutboundMessage.objects
    due = outbox.filter(status=Status.QUEUED, next_attempt_at__lte=now - timedelta(seconds=QUEUED_GRACE_SECONDS))
    if not outbox.filter(claimed_at__gte=now - timedelta(seconds=QUEUED_GRACE_SECONDS)).exists():
        stuck = due
    else:
        overtaken_before = outbox.filter(
            claimed_at__gte=now - timedelta(hours=1), claimed_at__lte=now - timedelta(seconds=30)
        ).aggregate(latest=Max("next_attempt_at"))["latest"]
        condition = Q(next_attempt_at__lte=now - timedelta(seconds=QUEUED_MAX_AGE_SECONDS))
        if overtaken_before is not None:
            condition |= Q(next_attempt_at__lt=overtaken_before)
        stuck = due.filter(condition)
    requeued = 0
    for pk, due_at in stuck.order_by("next_attempt_at", "pk").values_list("pk", "next_attempt_at")[:SWEEP_BATCH]:
        if outbox.filter(pk=pk, status=Status.QUEUED, next_attempt_at=due_at).update(next_attempt_at=now):
            if not services.enqueue(pk):
                break  # the broker is down: the next sweep tries again, one failed connection per sweep
            requeued += 1
    return requeued


@worker_process_init.connect
def _warm_up_pool_process(**_kwargs):
    """Do a pool process's one-off work (URLconf, the backend's client) before its first rate-limit admission.

    Done between admission and the request, it made each process's first text ~45 ms late: more than the
    limiter's window margin (SMS_RATE_WINDOW_MARGIN_MS), enough under load to put six requests in one second at
    5/s (test_drill_outbox.py).
    """
    try:
        from django.urls import reverse

        reverse("twilio-status")
        if settings.SMS_BACKEND == "twilio":
            from messaging.backends.twilio import get_client

            get_client()
    except Exception as exc:  # only an optimisation: the first send will do it instead
        logger.warning("sms worker warm-up skipped (%s)", type(exc).__name__)
