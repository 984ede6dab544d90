"""Drills for the outbox against real services: a worker SIGKILLed mid-send, a broker outage during a batch,
two workers under one global rate, and each of Twilio's answers ending in its status.

The harness (the drill's own redis-server, real Celery workers, a fake Twilio, and ageing the outbox instead of
waiting for the sweeper's grace periods) is tests/support/drills.py.
"""

import pytest

from messaging import services
from messaging.models import OutboundMessage
from tests.messaging.fake_twilio import max_in_any_window
from tests.support.drills import (
    DRILL_MARKS,
    SIMULATED_LIMIT,
    assert_each_recipient_got_exactly_one,
    queue_batch,
    recipient,
)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [*DRILL_MARKS, pytest.mark.usefixtures("everyone_consents")]

Status = OutboundMessage.Status


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(drill):
    numbers = range(100, 160)
    drill.twilio.latency = 0.4  # long enough to SIGKILL the worker while Twilio is answering
    first = drill.worker("first", rate=50).start()
    try:
        first.wait_ready()
        ids = queue_batch("kill", numbers)

        assert drill.twilio.wait_for_sends(5, timeout=30), drill.report(ids, [first])
        first.kill()
        in_flight = drill.twilio.sends()[-1].to
        drill.twilio.latency = 0.02
        # The hard case: Twilio has the text, our row still says "sending", and the task is stuck
        # unacknowledged in Redis for its one-hour visibility timeout.
        assert OutboundMessage.objects.get(to=in_flight).status == Status.SENDING, drill.report(ids, [first])

        with drill.workers("second", rate=50) as (second,):
            drill.settle(ids)
            assert_each_recipient_got_exactly_one(drill, numbers, ids, [first, second])
    finally:
        first.kill()
    assert OutboundMessage.objects.get(to=in_flight).provider_sid  # settled by asking Twilio, not re-sent
    assert drill.simulated <= SIMULATED_LIMIT
    print(f"kill drill: {len(ids)} texts, {len(drill.twilio.sends())} requests; {drill.report(ids)}")


def test_a_broker_outage_during_a_batch_loses_nothing_once_redis_returns(drill):
    # Each text queued while the broker is down costs about 0.6 s of kombu's publish retries.
    before, during = range(200, 250), range(250, 255)
    drill.twilio.latency = 0.05
    with drill.workers("only", rate=20) as (worker,):
        ids = queue_batch("outage", before)
        assert drill.twilio.wait_for_sends(10, timeout=30), drill.report(ids, [worker])

        drill.redis.stop()  # no persistence: whatever the broker held is gone for good
        ids += queue_batch("outage", during)  # the broker is down: rows are written, tasks are not
        assert OutboundMessage.objects.filter(pk__in=ids, status=Status.QUEUED).exists()
        drill.redis.restart()

        drill.settle(ids)
        assert_each_recipient_got_exactly_one(drill, [*before, *during], ids, [worker])
    assert any(sweep["requeued"] for sweep in drill.sweeps), "nothing was lost, so the drill proved nothing"
    assert drill.simulated <= SIMULATED_LIMIT
    print(f"outage drill: {len(ids)} texts, {len(drill.twilio.sends())} requests; {drill.report(ids)}")


def test_two_workers_together_never_exceed_the_global_rate(drill):
    numbers = range(300, 330)
    drill.twilio.latency = 0.05
    with drill.workers("left", "right", rate=5) as workers:
        ids = queue_batch("rate", numbers)
        assert drill.twilio.wait_for_sends(len(numbers), timeout=30), drill.report(ids, workers)
        logs = [w.log() for w in workers]

    times = [r.at for r in drill.twilio.sends()]
    assert max_in_any_window(times, 1.0) <= 5, sorted(round(t - times[0], 3) for t in times)
    # Both really sent: with a limit per worker instead of a global one, windows of 8–10 would show.
    assert all(": 'sent'" in log for log in logs), "one worker sent everything; the drill proved nothing"
    achieved = (len(times) - 1) / (max(times) - min(times))
    assert achieved > 3.5  # and the limit is not so slow that the check could never fail
    start = [round(t - times[0], 3) for t in sorted(times)[:6]]
    busiest = max_in_any_window(times)
    print(f"rate drill: {len(times)} requests, busiest second {busiest}, {achieved:.2f}/s of 5/s; first {start}")


def test_each_twilio_answer_ends_in_its_status_after_the_right_number_of_requests(drill):
    # recipient: (what the fake Twilio answers, requests it should get, final status)
    script = {
        400: (["429"], 2, Status.SENT),  # transient: retried after a backoff
        401: (["21211"], 1, Status.FAILED),  # invalid number: never retried
        402: (["21610"], 1, Status.SKIPPED),  # unsubscribed at Twilio: opted out here too
        403: (["500_sent"], 1, Status.SENT),  # 5xx, but Twilio has it: found by asking, not re-sent
        404: (["500"], 2, Status.SENT),  # 5xx and Twilio has nothing: re-sent once it is sure
        405: (["hang_sent"], 1, Status.SENT),  # timeout, Twilio has it
        406: (["hang"], 2, Status.SENT),  # timeout, Twilio has nothing
        407: ([], 1, Status.SENT),
    }
    for n, (answers, _requests, _status) in script.items():
        drill.twilio.answer_for(recipient(n), *answers)
    with drill.workers("only", rate=20) as (worker,):
        ids = queue_batch("answers", script)
        drill.settle(ids, timeout=60)
        requests = drill.twilio.sends_per_recipient()
        report = drill.report(ids, [worker])

    rows = {m.to: m for m in OutboundMessage.objects.filter(pk__in=ids)}
    outcome = {n: (requests[recipient(n)], rows[recipient(n)].status) for n in script}
    assert outcome == {n: (count, status) for n, (_a, count, status) in script.items()}, report
    assert rows[recipient(401)].error_code == "21211"
    assert services.is_opted_out(recipient(402))
    sids = {m.sid for m in drill.twilio.messages()}
    assert all(rows[recipient(n)].provider_sid in sids for n in (400, 403, 404, 405, 406, 407))
    print(f"answers drill: {outcome}; {drill.report(ids)}")
