"""Drills for briefings against real services: send_briefing → send_batch → real Celery workers → a fake Twilio.

The harness is the drills' own (tests/support/drills.py): the drill's own redis-server (stopped
at will), its own `celery -A config worker` processes (SIGKILLed at the end whatever happens) and a fake Twilio
on 127.0.0.1 that records every request from every process. Waiting for the sweeper's grace periods is
simulated by ageing the outbox once the workers have gone quiet, then running the real sweeper.

After each fault every frozen recipient has exactly one text at the fake Twilio and nothing is lost. The last two
tests show the double-send race without workers: a control with the briefing's row lock taken away, then the lock.
"""

import threading
import time

import pytest
from django.db import IntegrityError, connection
from django.urls import reverse

from lobbying import briefings, selectors
from lobbying.models import Briefing, BriefingRecipient
from messaging import services as messaging_services
from messaging.models import OutboundMessage
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory
from tests.services import require_postgres
from tests.support.drills import (
    DRILL_MARKS,
    SIMULATED_LIMIT,
    assert_each_recipient_got_exactly_one,
    recipient,
)

pytestmark = [*DRILL_MARKS, pytest.mark.slow]
Status = OutboundMessage.Status


def textable_delegates(conference, numbers):
    """One consenting delegate per drama-range number, spread over a few CLPs."""
    organisations = [OrganisationFactory(name=f"Drill CLP {i}") for i in range(4)]
    for i, n in enumerate(numbers):
        delegate = DelegateFactory(conference=conference, organisation=organisations[i % 4], mobile=recipient(n))
        SmsConsentFactory(delegate=delegate)


def compose(conference, coordinator) -> Briefing:
    return briefings.compose_briefing(
        conference=conference, body="Hi {first_name}: composite 3 is up after lunch, please vote FOR.",
        created_by=coordinator,
    )  # fmt: skip


def outbox_ids(briefing) -> list[int]:
    keys = BriefingRecipient.objects.filter(briefing=briefing).values("idempotency_key")
    return list(OutboundMessage.objects.filter(idempotency_key__in=keys).values_list("pk", flat=True))


def assert_progress_shows_all_sent(briefing, count):
    """What the coordinator's progress bar says once the drill is over: every text with Twilio, none pending."""
    progress = selectors.briefing_progress(briefing=briefing)
    assert (progress.total, progress.sent + progress.delivered, progress.pending) == (count, count, 0), progress
    assert progress.percent_done == 100.0


def test_a_worker_killed_mid_briefing_leaves_every_recipient_with_exactly_one_text(
    drill,
    conference,
    coordinator,
):
    numbers = range(0, 60)
    textable_delegates(conference, numbers)
    briefing = compose(conference, coordinator)
    drill.twilio.latency = 0.3  # long enough that a worker is usually mid-request when it dies
    with drill.workers("left", "right", rate=20) as (left, right):
        result = briefings.send_briefing(briefing=briefing, sent_by=coordinator)
        ids = outbox_ids(briefing)
        assert result.queued == len(ids) == len(numbers)

        assert drill.twilio.wait_for_sends(len(numbers) // 2, timeout=30), drill.report(ids, [left, right])
        left.kill()  # SIGKILL, pool and all: no warm shutdown, no acks
        killed_at = len(drill.twilio.sends())
        in_doubt = OutboundMessage.objects.filter(pk__in=ids, status=Status.SENDING).count()
        drill.twilio.latency = 0.02

        drill.settle(ids, timeout=50)
        assert_each_recipient_got_exactly_one(drill, numbers, ids, [left, right])
        assert_progress_shows_all_sent(briefing, len(numbers))
        assert ": 'sent'" in left.log(), "the killed worker sent nothing before it died: the drill proved nothing"
    assert killed_at < len(numbers), "everything was sent before the kill: the drill proved nothing"
    assert drill.simulated <= SIMULATED_LIMIT
    print(f"briefing kill drill: killed after {killed_at} sends, {in_doubt} sending then; {drill.report(ids)}")


def test_pressing_send_with_the_broker_down_commits_the_briefing_and_the_sweeper_delivers_it_once(
    drill,
    conference,
    coordinator,
    coordinator_client,
):
    numbers = range(100, 140)
    textable_delegates(conference, numbers)
    briefing = compose(conference, coordinator)
    drill.twilio.latency = 0.02
    drill.redis.stop()  # no persistence: the broker holds nothing when it comes back

    started = time.monotonic()
    response = coordinator_client.post(reverse("lobbying:briefing-send", args=[briefing.pk]), follow=True)
    took = time.monotonic() - started

    # The page answered at once and plainly; the audience is frozen and every text waits in the outbox.
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Sending to {len(numbers)} delegates: {len(numbers)} texts queued." in page
    assert took < 10, f"pressing send waited {took:.1f} s on the dead broker"
    ids = outbox_ids(briefing)
    assert BriefingRecipient.objects.filter(briefing=briefing).count() == len(ids) == len(numbers)
    assert OutboundMessage.objects.filter(pk__in=ids, status=Status.QUEUED).count() == len(numbers)
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.SENDING
    progress = selectors.briefing_progress(briefing=briefing)  # what the bar shows: all waiting, none lost
    assert (progress.total, progress.queued, progress.percent_done) == (len(numbers), len(numbers), 0.0)

    drill.redis.restart()
    with drill.workers("after", "outage", rate=50) as workers:
        drill.settle(ids, timeout=50)
        assert_each_recipient_got_exactly_one(drill, numbers, ids, workers)
        assert_progress_shows_all_sent(briefing, len(numbers))
    assert any(sweep["requeued"] for sweep in drill.sweeps), "nothing needed the sweeper: the drill proved nothing"
    print(f"briefing outage drill: the send page took {took:.2f} s with Redis down; {drill.report(ids)}")


def test_two_coordinators_sending_at_once_freeze_one_audience_and_text_each_recipient_once(
    drill,
    conference,
    coordinator,
    second_coordinator,
):
    numbers = range(200, 260)
    textable_delegates(conference, numbers)
    briefing = compose(conference, coordinator)
    drill.twilio.latency = 0.02
    together = threading.Barrier(2, timeout=10)
    results, errors = {}, {}

    def press_send(who):
        try:
            together.wait()
            results[who.username] = briefings.send_briefing(briefing=briefing, sent_by=who)
        except Exception as exc:  # reported below, with the other thread's outcome
            errors[who.username] = exc
        finally:
            connection.close()  # each thread has its own connection; the test database must be droppable

    with drill.workers("twice", rate=100) as workers:
        threads = [threading.Thread(target=press_send, args=(who,)) for who in (coordinator, second_coordinator)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        ids = outbox_ids(briefing)
        drill.settle(ids, timeout=40)
        assert_each_recipient_got_exactly_one(drill, numbers, ids, workers)
        assert_progress_shows_all_sent(briefing, len(numbers))

    assert BriefingRecipient.objects.filter(briefing=briefing).count() == len(numbers)
    assert OutboundMessage.objects.filter(purpose=briefings.PURPOSE).count() == len(numbers)
    # One press froze and queued everything; the other found it all there and queued nothing.
    outcomes = sorted((r.recipients, r.queued, r.already_queued) for r in results.values())
    assert outcomes == [(len(numbers), 0, len(numbers)), (len(numbers), len(numbers), 0)], outcomes
    print(f"briefing double-send drill: {outcomes}; {drill.report(ids)}")


# --- The race itself, without workers: what the lock on the briefing row prevents --------------------------------


@pytest.fixture
def widened_race(monkeypatch):
    """Whoever reads the audience holds it half a second before writing it, so two presses of Send overlap for
    sure; the dispatcher publish is left out (no worker here). Returns the threads that read the audience."""
    readers = []
    read_audience = briefings._audience_rows

    def slow_audience_rows(briefing):
        readers.append(threading.get_ident())
        rows = list(read_audience(briefing))
        time.sleep(0.5)
        return rows

    monkeypatch.setattr(briefings, "_audience_rows", slow_audience_rows)
    monkeypatch.setattr(messaging_services, "dispatch", lambda ids: True)
    return readers


def press_send_together(briefing, people):
    """Both press Send at the same moment, each in its own thread and database connection."""
    together = threading.Barrier(len(people), timeout=10)
    results, errors = [], []

    def press(who):
        try:
            together.wait()
            results.append(briefings.send_briefing(briefing=briefing, sent_by=who))
        except Exception as exc:  # the caller asserts on these
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(who,)) for who in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_control_without_the_row_lock_two_presses_both_freeze_the_audience_and_one_fails(
    conference, coordinator, second_coordinator, widened_race, monkeypatch
):
    """Proves the race is real: take the lock away and both read an unfrozen briefing; the second insert of the
    same recipients hits the unique constraint, which a coordinator would meet as a server error."""
    require_postgres()
    textable_delegates(conference, range(300, 310))
    briefing = compose(conference, coordinator)
    monkeypatch.setattr(type(Briefing.objects), "select_for_update", lambda self, *args, **kwargs: self.all())

    results, errors = press_send_together(briefing, [coordinator, second_coordinator])

    assert len(widened_race) == 2, "both presses read the audience"
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    assert isinstance(errors[0], IntegrityError), errors


def test_with_the_row_lock_the_second_press_waits_and_finds_the_audience_frozen(
    conference, coordinator, second_coordinator, widened_race
):
    require_postgres()
    textable_delegates(conference, range(300, 310))
    briefing = compose(conference, coordinator)

    results, errors = press_send_together(briefing, [coordinator, second_coordinator])

    assert not errors, errors
    assert len(widened_race) == 1, "only the first press read the audience"
    outcomes = sorted((r.recipients, r.queued, r.already_queued) for r in results)
    assert outcomes == [(10, 0, 10), (10, 10, 0)]
    assert BriefingRecipient.objects.filter(briefing=briefing).count() == 10
    assert OutboundMessage.objects.filter(purpose=briefings.PURPOSE).count() == 10
