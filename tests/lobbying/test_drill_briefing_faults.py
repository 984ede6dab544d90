"""Fault drills for a briefing being delivered by real workers: the broker gone for a while, Twilio misbehaving,
PostgreSQL connections killed under the workers' feet.

The harness is the drills' own (tests/support/drills.py): the drill's own redis-server, real
`celery -A config worker` processes and a fake Twilio recording every request. Each drill ends the same way:
every frozen recipient has exactly one text at the fake Twilio, every outbox row says so, and a second small
briefing sent afterwards (same workers, no restart) is delivered too.

The Redis outage lasts ``REDIS_OUTAGE_SECONDS``: 20 s under ``make drills`` (DRILL_REDIS_OUTAGE_SECONDS=20), 5 s by
default so that ``make test`` / ``.ci/run`` stay quick.
"""

import os
import threading
import time
from collections import Counter

import psycopg
import pytest
from django.db import connection

from lobbying import briefings
from messaging.models import OutboundMessage
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory
from tests.lobbying.test_drill_briefings import (
    assert_progress_shows_all_sent,
    compose,
    outbox_ids,
    textable_delegates,
)
from tests.support.drills import (
    ACCEPTED,
    DRILL_MARKS,
    SIMULATED_LIMIT,
    assert_each_recipient_got_exactly_one,
    recipient,
)

pytestmark = [*DRILL_MARKS, pytest.mark.slow]
Status = OutboundMessage.Status
REDIS_OUTAGE_SECONDS = float(os.environ.get("DRILL_REDIS_OUTAGE_SECONDS", "5"))


def send_and_settle(drill, conference, coordinator, numbers, workers, *, briefing=None) -> list[int]:
    """Briefing → workers → fake Twilio, settled: each of ``numbers`` holds exactly one text Twilio accepted."""
    briefing = briefing or compose(conference, coordinator)
    result = briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    ids = outbox_ids(briefing)
    assert result.queued == len(ids) == len(numbers)
    drill.settle(ids, timeout=60)
    assert_one_accepted_text_each(drill, numbers, ids, workers)
    assert_progress_shows_all_sent(briefing, len(numbers))
    return ids


def assert_one_accepted_text_each(drill, numbers, ids, workers=()):
    """Twilio holds exactly one text for each of ``numbers`` (other recipients of the drill aside), and every
    outbox row names the text Twilio holds."""
    kept = Counter(m.to for m in drill.twilio.messages())
    wrong = {recipient(n): kept[recipient(n)] for n in numbers if kept[recipient(n)] != 1}
    assert not wrong, f"texts held by Twilio per recipient: {wrong}; {drill.report(ids, workers)}"
    sids = {m.sid for m in drill.twilio.messages()}
    rows = OutboundMessage.objects.filter(pk__in=ids)
    assert all(row.status in ACCEPTED and row.provider_sid in sids for row in rows), drill.report(ids, workers)


def answers_again(drill, conference, coordinator, numbers, workers):
    """The app works again without a restart: a second, small briefing (to one new CLP's delegates) is delivered,
    each text with a single request."""
    clp = OrganisationFactory(name="After the drill CLP")
    for n in numbers:
        SmsConsentFactory(delegate=DelegateFactory(conference=conference, organisation=clp, mobile=recipient(n)))
    briefing = briefings.compose_briefing(
        conference=conference, body="Thanks {first_name}, all done.", created_by=coordinator, organisations=[clp]
    )
    send_and_settle(drill, conference, coordinator, numbers, workers, briefing=briefing)
    requests = drill.twilio.sends_per_recipient()
    assert all(requests[recipient(n)] == 1 for n in numbers), requests


def terminate_other_backends() -> int:
    """Kill every other connection to the test database from a connection of our own, as a failover would."""
    dsn = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port")
    with psycopg.connect(**{k: dsn[k] for k in keys if dsn.get(k)}, autocommit=True) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def test_redis_stopped_mid_briefing_then_restarted_each_recipient_gets_one_text(drill, conference, coordinator):
    numbers = range(500, 560)
    textable_delegates(conference, numbers)
    briefing = compose(conference, coordinator)
    drill.twilio.latency = 0.1
    with drill.workers("east", "west", rate=20) as workers:
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
        ids = outbox_ids(briefing)
        assert drill.twilio.wait_for_sends(15, timeout=40), drill.report(ids, workers)

        drill.redis.stop()  # no persistence: every task the broker held is gone
        stopped_at = len(drill.twilio.sends())
        time.sleep(REDIS_OUTAGE_SECONDS)
        drill.redis.restart()

        drill.settle(ids, timeout=90)
        assert_each_recipient_got_exactly_one(drill, numbers, ids, workers)
        assert_progress_shows_all_sent(briefing, len(numbers))
        assert all(w.alive for w in workers), "a worker died of the outage"
        answers_again(drill, conference, coordinator, range(600, 605), workers)
    assert stopped_at < len(numbers), "everything was sent before the outage: the drill proved nothing"
    assert any(sweep["requeued"] for sweep in drill.sweeps), "nothing needed the sweeper: the drill proved nothing"
    assert drill.simulated <= SIMULATED_LIMIT * 2  # the drill's own settle and the second briefing's
    print(f"briefing redis drill: {REDIS_OUTAGE_SECONDS:.0f} s outage after {stopped_at} sends; {drill.report(ids)}")


def test_twilio_429s_500s_and_hangs_during_a_briefing_end_in_one_accepted_send_each(drill, conference, coordinator):
    """429 → retried after a backoff; 500 or a hang → in doubt (``unknown``), settled by asking Twilio: re-sent only
    when Twilio has nothing, never when it kept the text."""
    numbers = range(700, 750)
    textable_delegates(conference, numbers)
    # answer → POSTs that recipient should cost: 2 where Twilio refused or lost the first, 1 where it kept it.
    expected_posts = {"429": 2, "500": 2, "500_sent": 1, "hang": 2, "hang_sent": 1}
    trouble = {700: "429", 705: "429", 710: "500", 715: "500_sent", 720: "hang", 725: "hang_sent", 730: "429"}
    trouble |= {735: "500_sent", 740: "500", 745: "hang_sent"}
    for n, answer in trouble.items():
        drill.twilio.answer_for(recipient(n), answer)
    drill.twilio.latency = 0.05
    with drill.workers("north", "south", rate=25) as workers:
        ids = send_and_settle(drill, conference, coordinator, numbers, workers)
        answers_again(drill, conference, coordinator, range(760, 763), workers)

    posts = drill.twilio.sends_per_recipient()
    outcome = {n: (answer, posts[recipient(n)]) for n, answer in trouble.items()}
    assert outcome == {n: (answer, expected_posts[answer]) for n, answer in trouble.items()}, drill.report(ids)
    calm = [n for n in numbers if n not in trouble]
    assert all(posts[recipient(n)] == 1 for n in calm), posts
    print(f"briefing twilio drill: {outcome}; {drill.report(ids)}")


def test_postgres_connections_dropped_while_workers_deliver_a_briefing(drill, conference, coordinator):
    numbers = range(800, 850)
    textable_delegates(conference, numbers)
    briefing = compose(conference, coordinator)
    drill.twilio.latency = 0.1
    killed = []
    sent_at_first_drop = []
    # 50 texts at 10/s take about 5.5 s: the drops (every 0.7 s from the fifth text on) land while most are unsent.
    with drill.workers("up", "down", rate=10) as workers:
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
        ids = outbox_ids(briefing)
        connection.close()  # ours dies too; Django opens a new one on the next query
        assert drill.twilio.wait_for_sends(5, timeout=40), drill.report(ids, workers)

        stop = threading.Event()

        def drop_connections():
            while not stop.is_set() and len(killed) < 5:
                killed.append(terminate_other_backends())
                if len(killed) == 1:
                    sent_at_first_drop.append(len(drill.twilio.sends()))
                stop.wait(0.7)

        dropper = threading.Thread(target=drop_connections)
        dropper.start()
        dropper.join(timeout=20)
        stop.set()
        connection.close()
        sent_during = sent_at_first_drop[0] if sent_at_first_drop else len(numbers)

        drill.settle(ids, timeout=90)
        assert_each_recipient_got_exactly_one(drill, numbers, ids, workers)
        assert_progress_shows_all_sent(briefing, len(numbers))
        assert all(w.alive for w in workers), "a worker died of a dropped connection"
        answers_again(drill, conference, coordinator, range(860, 864), workers)
    assert sum(killed) > 0, "no connection was dropped: the drill proved nothing"
    assert sent_during < len(numbers), "everything was sent before the first drop: the drill proved nothing"
    print(f"briefing postgres drill: dropped {killed} connections; {sent_during} sent by then; {drill.report(ids)}")
