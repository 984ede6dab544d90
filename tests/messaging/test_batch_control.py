"""Pausing, resuming and cancelling a batch (a briefing's texts): waiting texts are held or skipped with one
conditional UPDATE, a worker that already claimed one holds or skips it before calling the provider, resuming
sends each held text once, and the sweeper never re-queues a held text."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import services, tasks
from messaging.models import OutboundBatch, OutboundMessage, OutboundStatusChange
from messaging.services import BatchText, send_batch
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("everyone_consents")]
Status = OutboundMessage.Status
BATCH = "briefing:77"


def texts(count: int, prefix: str = "brief") -> list[BatchText]:
    return [BatchText(to=f"07700 900{n:03d}", body=f"Vote FOR {n}", key=f"{prefix}:{n}") for n in range(count)]


@pytest.fixture
def dispatched(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "dispatch", lambda ids: calls.append(list(ids)) or True)
    return calls


def run_dispatched(sms, dispatched):
    """As a worker would: commit, then deliver every id the dispatcher tasks carried."""
    sms.commit()
    results = []
    while dispatched:
        results += [tasks.deliver(pk) for pk in dispatched.pop(0)]
    return results


def statuses(ids):
    return sorted(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))


def test_holding_a_batch_holds_its_waiting_texts_and_nothing_else(sms, dispatched):
    result = send_batch(texts(4), purpose="briefing", batch=BATCH)
    other = send_batch(texts(2, "other"), purpose="briefing", batch="briefing:78")
    change = services.hold_batch(BATCH)
    assert (change.state, change.changed) == ("held", 4)
    assert statuses(result.queued) == [Status.HELD] * 4
    assert statuses(other.queued) == [Status.QUEUED] * 2
    history = OutboundStatusChange.objects.filter(message_id__in=result.queued, to_status=Status.HELD)
    assert sorted(history.values_list("from_status", flat=True)) == [Status.QUEUED] * 4

    # The delivery tasks already in the broker find nothing to claim: nothing is sent while paused.
    assert set(run_dispatched(sms, dispatched)[:4]) == {"not-claimed"}
    assert len(sms.outbox) == 2  # the other batch only


def test_releasing_a_batch_queues_the_held_texts_again_and_sends_each_once(sms, dispatched):
    result = send_batch(texts(3), purpose="briefing", batch=BATCH)
    services.hold_batch(BATCH)
    run_dispatched(sms, dispatched)
    assert sms.outbox == []

    change = services.release_batch(BATCH)
    assert (change.state, change.changed) == ("open", 3)
    assert dispatched == []  # published only after commit
    sms.commit()
    assert dispatched == [result.queued]
    dispatched.append(list(result.queued))  # a duplicate publish is harmless: the claim picks one
    run_dispatched(sms, dispatched)
    assert sorted(m.to for m in sms.outbox) == ["+447700900000", "+447700900001", "+447700900002"]
    assert services.release_batch(BATCH).changed == 0  # again: nothing more


def test_cancelling_skips_waiting_and_held_texts_but_leaves_sent_ones_alone(sms, dispatched):
    result = send_batch(texts(4), purpose="briefing", batch=BATCH)
    sms.commit()
    first, second, *rest = dispatched.pop(0)
    tasks.deliver(first)  # handed to the provider before the cancel
    services.hold_batch(BATCH)
    change = services.cancel_batch(BATCH, reason="the vote moved")
    assert (change.state, change.changed) == ("cancelled", 3)
    rows = dict(OutboundMessage.objects.filter(pk__in=result.queued).values_list("pk", "status"))
    assert rows[first] == Status.SENT
    assert {rows[pk] for pk in (second, *rest)} == {Status.SKIPPED}
    skipped = OutboundMessage.objects.get(pk=second)
    assert (skipped.error_code, skipped.error_message) == ("cancelled", "Not sent: cancelled before it went out.")
    assert [tasks.deliver(pk) for pk in (second, *rest)] == ["not-claimed"] * 3
    assert len(sms.outbox) == 1

    with pytest.raises(ValidationError, match="cancelled"):
        services.release_batch(BATCH)
    assert services.hold_batch(BATCH).state == "cancelled"  # stays cancelled
    # Texts added to a cancelled batch later (a second send) are never queued.
    late = send_batch(texts(1, "late"), purpose="briefing", batch=BATCH)
    assert late.queued == [] and statuses(late.skipped) == [Status.SKIPPED]


def test_a_text_a_worker_claimed_before_the_pause_is_held_by_the_worker_not_sent(sms, dispatched):
    result = send_batch(texts(1), purpose="briefing", batch=BATCH)
    [pk] = result.queued
    claimed = services.claim(pk)  # a worker has it...
    services.hold_batch(BATCH)  # ...when the coordinator presses pause
    assert claimed.status == Status.SENDING
    assert tasks._stop_before_sending(claimed, claimed.attempts) == "held"
    message = OutboundMessage.objects.get(pk=pk)
    assert (message.status, message.attempts) == (Status.HELD, 0)  # the claim is not counted as an attempt
    assert sms.outbox == []
    services.release_batch(BATCH)
    run_dispatched(sms, dispatched)
    assert len(sms.outbox) == 1


def test_a_retry_that_comes_back_after_the_pause_is_held_when_claimed_again(sms, dispatched):
    result = send_batch(texts(1), purpose="briefing", batch=BATCH)
    [pk] = result.queued
    # Back in the queue for a retry while the batch is paused (as a transient error or the sweeper would).
    services.hold_batch(BATCH)
    OutboundMessage.objects.filter(pk=pk).update(status=Status.QUEUED)
    assert tasks.deliver(pk) == "held"
    assert sms.outbox == []
    services.cancel_batch(BATCH)
    assert OutboundMessage.objects.get(pk=pk).status == Status.SKIPPED


def test_a_claimed_text_of_a_cancelled_batch_is_skipped_by_the_worker(sms, dispatched):
    [pk] = send_batch(texts(1), purpose="briefing", batch=BATCH).queued
    claimed = services.claim(pk)
    services.cancel_batch(BATCH)
    assert tasks._stop_before_sending(claimed, claimed.attempts) == "skipped"
    assert OutboundMessage.objects.get(pk=pk).error_code == "cancelled"


def test_texts_added_to_a_paused_batch_start_held(sms, dispatched):
    services.hold_batch(BATCH)
    result = send_batch(texts(2), purpose="briefing", batch=BATCH)
    assert result.queued == [] and statuses(result.held) == [Status.HELD] * 2
    sms.commit()
    assert dispatched == []


def test_the_sweeper_never_requeues_held_texts_but_expires_them_after_useless_after(sms, dispatched, monkeypatch):
    useless_after = timezone.now() + dt.timedelta(minutes=10)
    result = send_batch(texts(2), purpose="briefing", batch=BATCH, useless_after=useless_after)
    services.hold_batch(BATCH)
    OutboundMessage.objects.update(next_attempt_at=timezone.now() - dt.timedelta(hours=1))
    counts = tasks.sweep()
    assert counts["requeued"] == 0 and sms.queued == []
    assert statuses(result.queued) == [Status.HELD] * 2

    OutboundMessage.objects.update(useless_after=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.sweep()["expired"] == 2
    assert {m.error_code for m in OutboundMessage.objects.filter(pk__in=result.queued)} == {"expired"}


def test_holding_releasing_and_cancelling_take_a_fixed_number_of_queries(sms, dispatched):
    send_batch(texts(5), purpose="briefing", batch=BATCH)
    services.hold_batch(BATCH)  # the first call creates the batch's state row
    services.release_batch(BATCH)
    with CaptureQueriesContext(connection) as small:
        services.hold_batch(BATCH)
        services.release_batch(BATCH)
    send_batch(texts(60, "more"), purpose="briefing", batch=BATCH)
    with CaptureQueriesContext(connection) as large:
        services.hold_batch(BATCH)
        services.release_batch(BATCH)
    # Each: lock the batch row, save its state, lock and read the texts, UPDATE them, INSERT their history.
    assert len(large) == len(small) <= 14


def test_a_batch_needs_a_label(sms):
    with pytest.raises(ValidationError):
        services.hold_batch("")
    assert not OutboundBatch.objects.exists()
