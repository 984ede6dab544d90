"""The drill harness: what every fault drill runs against, and the marks every drill module carries.

A drill is a test against real services, with faults injected on purpose: real ``celery -A config worker``
processes consuming from Redis, PostgreSQL, and a fake Twilio (tests/messaging/fake_twilio.py). Each drill starts
its own redis-server (so stopping it hurts nobody), its own workers (own process groups, SIGKILLed at the end
whatever happens) and its own fake Twilio on 127.0.0.1, which records every request from every worker. The workers
are separate processes, so drills run outside a transaction (``django_db(transaction=True)``) and hand the workers
the test database's URL; they queue up on one pytest-xdist worker (``xdist_group("processes")``) so that two at
once do not starve each other of cores.

Waiting for the sweeper's grace periods (a minute or two in production) would make the drills slow, so once the
workers have gone quiet a drill *ages* the outbox: it moves every timestamp back as if that much time had passed,
then runs the real sweeper. The simulated waiting is bounded too: a killed worker or an outage must delay nothing
by more than a couple of minutes.

The ``drill`` fixture is registered for every test by tests/conftest.py (``pytest_plugins``); modules import the
helpers and ``DRILL_MARKS`` from here.
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
from tests.messaging.fake_twilio import FakeTwilio
from tests.services import require_postgres, require_redis
from tests.support.celery_worker import (
    CeleryWorker,
    celery_broker,
    database_url_from_connection,
    running_workers,
    worker_environment,
)
from tests.support.redis_server import RedisServer

# Each drill module: `pytestmark = DRILL_MARKS`, or `[*DRILL_MARKS, <its own extra marks>]`. Not used by
# tests/volunteers/test_drill_db_drops.py (no Redis) or tests/browser/test_briefings.py (xdist_group "browser").
DRILL_MARKS = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("processes"),
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
