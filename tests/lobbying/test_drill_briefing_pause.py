"""Drill: pause, resume and cancel a briefing while a real Celery worker is sending it to the fake Twilio.

After pause nothing more reaches Twilio (not even once the sweeper has run); resume sends the rest, each
recipient exactly once; after cancel nothing more is ever sent.
"""

import time

import pytest
from django.db import transaction

from lobbying import briefings
from lobbying.models import Briefing
from messaging.models import OutboundMessage
from tests.factories import DelegateFactory, SmsConsentFactory
from tests.support.drills import (
    DRILL_MARKS,
    SIMULATED_STEP,
    age_outbox,
    recipient,
)
from tests.support.drills import (
    statuses as outbox_statuses,
)

pytestmark = DRILL_MARKS
Outbound = OutboundMessage.Status
NUMBERS = range(300, 340)


@pytest.fixture
def briefing(conference, coordinator):
    for n in NUMBERS:
        SmsConsentFactory(delegate=DelegateFactory(conference=conference, mobile=recipient(n)))
    return briefings.compose_briefing(conference=conference, body="Hi {first_name}: vote FOR", created_by=coordinator)


def send(briefing, coordinator) -> list[int]:
    with transaction.atomic():  # the dispatcher task is published when this commits, as in a request
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    return list(OutboundMessage.objects.filter(batch=briefings.batch_label(briefing.pk)).values_list("pk", flat=True))


def sweep_a_while(running, rounds=3):
    """As if a few minutes passed with the sweeper running: it must not bring anything held back to life."""
    from messaging.tasks import sweep_outbox

    for _ in range(rounds):
        age_outbox(SIMULATED_STEP)
        running.sweeps.append(sweep_outbox())
    running.wait_quiet(quiet=1.5, timeout=15)


def counts(ids) -> dict[str, int]:
    result = {}
    for status in outbox_statuses(ids).values():
        result[status] = result.get(status, 0) + 1
    return result


def test_after_pause_nothing_more_is_sent_and_resume_sends_the_rest_exactly_once(drill, briefing, coordinator):
    drill.twilio.latency = 0.05
    with drill.workers("pause", rate=8) as workers:
        ids = send(briefing, coordinator)
        assert drill.twilio.wait_for_sends(5, timeout=30), drill.report(ids, workers)
        briefings.pause_briefing(briefing=briefing, by=coordinator)
        drill.wait_quiet(quiet=2, timeout=20)  # the texts in a worker's hands at the pause finish
        sent_at_pause = len(drill.twilio.sends())
        assert sent_at_pause < len(NUMBERS), drill.report(ids, workers)

        time.sleep(2)
        sweep_a_while(drill)
        assert len(drill.twilio.sends()) == sent_at_pause, drill.report(ids, workers)
        held = counts(ids).get(Outbound.HELD, 0)
        assert held == len(NUMBERS) - sent_at_pause, drill.report(ids, workers)

        briefings.resume_briefing(briefing=briefing, by=coordinator)
        drill.settle(ids)
        sent = drill.twilio.sends_per_recipient()
        assert set(sent) == {recipient(n) for n in NUMBERS}, drill.report(ids, workers)
        assert max(sent.values()) == 1, drill.report(ids, workers)
    assert briefings.finish_sent_briefings() == [briefing.pk]
    assert Briefing.objects.get(pk=briefing.pk).status == Briefing.Status.SENT


def test_after_cancel_nothing_more_is_ever_sent(drill, briefing, coordinator):
    drill.twilio.latency = 0.05
    with drill.workers("cancel", rate=8) as workers:
        ids = send(briefing, coordinator)
        assert drill.twilio.wait_for_sends(5, timeout=30), drill.report(ids, workers)
        briefings.cancel_briefing(briefing=briefing, by=coordinator, reason="drill")
        drill.wait_quiet(quiet=2, timeout=20)
        sent_at_cancel = len(drill.twilio.sends())

        time.sleep(2)
        sweep_a_while(drill)
        assert len(drill.twilio.sends()) == sent_at_cancel, drill.report(ids, workers)
        final = counts(ids)
        assert final == {Outbound.SENT: sent_at_cancel, Outbound.SKIPPED: len(NUMBERS) - sent_at_cancel}, drill.report(
            ids, workers
        )
        assert max(drill.twilio.sends_per_recipient().values()) == 1
