"""Drills against real services: Celery workers consuming from Redis, PostgreSQL, and a fake Twilio.

Each drill starts its own redis-server (so stopping it hurts nobody), its own workers (own process
groups, SIGKILLed at the end whatever happens) and its own fake Twilio on 127.0.0.1, which records
every request from every worker. The workers are separate processes, so the tests run outside a
transaction (``transaction=True``) and hand the workers the test database's URL.

Waiting for the sweeper's grace periods (a minute or two in production) would make the drills slow,
so once the workers have gone quiet a drill *ages* the outbox: it moves every timestamp back as if
that much time had passed, then runs the real sweeper. The simulated waiting is bounded too: a
killed worker or an outage must delay nothing by more than a couple of minutes.
"""

import datetime as dt
import time
from contextlib import ExitStack

import pytest
import redis
from django.db import transaction
from django.db.models import F

from messaging import services
from messaging.models import OutboundMessage
from messaging.tasks import sweep_outbox
from tests.messaging.fake_twilio import FakeTwilio, max_in_any_window
from tests.services import require_postgres, require_redis
from tests.support.celery_worker import (
    CeleryWorker,
    celery_broker,
    database_url_from_connection,
    running_workers,
    worker_environment,
)
from tests.support.redis_server import RedisServer

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("everyone_consents"),
]

Status = OutboundMessage.Status
# The sweeper runs every 30 s; a lost message must be on its way again within about two minutes.
SIMULATED_STEP = dt.timedelta(seconds=45)
SIMULATED_LIMIT = dt.timedelta(seconds=180)
# Twilio has it: our "sent" (and anything a status callback moved it on to).
ACCEPTED = {Status.SENT, Status.DELIVERED}
# Not settled yet: waiting for a worker, with one, or in doubt.
OPEN = [Status.QUEUED, Status.SENDING, Status.UNKNOWN]


class Drill:
    """Everything one drill runs against; ``workers()`` starts workers aimed at all of it."""

    def __init__(self, stack: ExitStack, tmp_path, settings):
        self.tmp_path = tmp_path
        self.redis = stack.enter_context(RedisServer(workdir=_folder(tmp_path / "redis")))
        self.twilio = stack.enter_context(FakeTwilio(hang_seconds=10))
        stack.enter_context(celery_broker(self.redis.url()))
        self.simulated = dt.timedelta()
        self.sweeps: list[dict] = []
        # The sweeper runs here, in the test process, and asks "Twilio" about messages in doubt.
        settings.SMS_BACKEND = "twilio"
        for name, value in self.twilio.env().items():
            if name.startswith("TWILIO_"):
                setattr(settings, name, value)
        settings.TWILIO_TIMEOUT_SECONDS = 2.0

    def env(self, *, rate: float) -> dict[str, str]:
        return worker_environment(
            database_url=database_url_from_connection(),
            redis_url=self.redis.url(),
            var_dir=_folder(self.tmp_path / "var"),
            rate=rate,
            extra={**self.twilio.env(), "TWILIO_TIMEOUT_SECONDS": "2"},
        )

    def worker(self, name: str, *, rate: float) -> CeleryWorker:
        return CeleryWorker(name, self.env(rate=rate), log_dir=self.tmp_path)

    def workers(self, *names: str, rate: float):
        return running_workers(names, self.env(rate=rate), log_dir=self.tmp_path)

    def broker_backlog(self) -> int | None:
        """Tasks waiting in the broker's queues, or None while it is down."""
        try:
            with redis.Redis.from_url(self.redis.url(), socket_connect_timeout=0.5) as client:
                return sum(client.llen(k) for q in ("sms", "default") for k in client.scan_iter(f"{q}*"))
        except redis.RedisError:
            return None

    def wait_quiet(self, *, quiet: float = 1.5, timeout: float = 30.0) -> None:
        """Wait until the broker's queues are empty and the fake Twilio has heard nothing new for
        ``quiet`` seconds: the workers have done all they can (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.twilio.requests()), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now_seen = len(self.twilio.requests())
            if now_seen != seen or self.broker_backlog() != 0:
                seen, since = now_seen, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def settle(self, ids: list[int], *, timeout: float = 45.0) -> None:
        """Let the workers finish, then age the outbox and sweep until no message is left open.

        Only once the workers are quiet: aging a claim a live worker still holds would fake a dead one.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.wait_quiet(timeout=max(deadline - time.monotonic(), 1))
            if not OutboundMessage.objects.filter(pk__in=ids, status__in=OPEN).exists():
                return
            if self.simulated < SIMULATED_LIMIT:
                age_outbox(SIMULATED_STEP)
                self.simulated += SIMULATED_STEP
                self.sweeps.append(sweep_outbox())

    def report(self, ids, workers=()) -> str:
        """What a failing assertion shows: statuses, sweeps, and the workers' last lines."""
        counts = {}
        for status in statuses(ids).values():
            counts[status] = counts.get(status, 0) + 1
        tails = "\n".join(f"--- {w.name}\n{w.log()[-1500:]}" for w in workers)
        return f"statuses={counts} sweeps={self.sweeps} simulated={self.simulated}\n{tails}"


def _folder(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def drill(tmp_path, settings):
    require_postgres()
    require_redis()
    with ExitStack() as stack:
        yield Drill(stack, tmp_path, settings)


def recipient(n: int) -> str:
    return f"+447700900{n:03d}"  # Ofcom's drama range: never a real phone


def queue_batch(name: str, numbers) -> list[int]:
    """One transaction, as a briefing to an audience would: the tasks are queued when it commits."""
    with transaction.atomic():
        return [
            services.send_sms(
                to=recipient(n), body=f"Drill {name} {n}", key=f"drill:{name}:{n}", purpose="drill", marketing=False
            ).pk
            for n in numbers
        ]


def statuses(ids) -> dict[int, str]:
    return dict(OutboundMessage.objects.filter(pk__in=ids).values_list("pk", "status"))


def age_outbox(by: dt.timedelta) -> None:
    """As if ``by`` had passed: every timestamp the sweeper compares moves back."""
    OutboundMessage.objects.update(
        created_at=F("created_at") - by,
        claimed_at=F("claimed_at") - by,
        next_attempt_at=F("next_attempt_at") - by,
    )


def assert_each_recipient_got_exactly_one(drill, numbers, ids, workers=()):
    sent = drill.twilio.sends_per_recipient()
    expected = {recipient(n) for n in numbers}
    lost = sorted(expected - set(sent))
    duplicated = sorted(to for to, count in sent.items() if count > 1)
    report = drill.report(ids, workers)
    assert not lost, f"{len(lost)} recipients never reached Twilio; {report}"
    assert not duplicated, f"{len(duplicated)} recipients were sent twice; {report}"
    assert set(sent) == expected
    not_accepted = {pk: s for pk, s in statuses(ids).items() if s not in ACCEPTED}
    assert not not_accepted, f"rows not recorded as sent: {not_accepted}; {report}"


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
