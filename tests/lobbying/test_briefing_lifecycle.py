"""A briefing's life after compose: pause, resume and cancel while sending (each with its history row and a
clear refusal when the move makes no sense), and `sent` once every text is settled."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from lobbying import briefings
from lobbying.models import Briefing, BriefingStatusChange
from messaging import services as messaging_services
from messaging import tasks as messaging_tasks
from messaging.models import OutboundMessage
from tests.factories import DelegateFactory, SmsConsentFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
Status = Briefing.Status
Outbound = OutboundMessage.Status


@pytest.fixture
def dispatched(monkeypatch):
    calls = []
    monkeypatch.setattr(messaging_services, "dispatch", lambda ids: calls.append(list(ids)) or True)
    return calls


@pytest.fixture
def audience(conference):
    people = [DelegateFactory(conference=conference, mobile=f"+4477009001{n:02d}") for n in range(5)]
    for delegate in people:
        SmsConsentFactory(delegate=delegate)
    return people


def compose(conference, coordinator, **kwargs):
    return briefings.compose_briefing(
        conference=conference, body="Hi {first_name}: vote FOR composite 3", created_by=coordinator, **kwargs
    )


def deliver(sms, dispatched, limit=None):
    """Commit, then let a worker deliver the dispatched ids (at most ``limit`` of them)."""
    sms.commit()
    ids = [pk for chunk in dispatched for pk in chunk]
    dispatched.clear()
    return [messaging_tasks.deliver(pk) for pk in ids[:limit]]


def outbox_statuses(briefing):
    return sorted(
        OutboundMessage.objects.filter(batch=briefings.batch_label(briefing.pk)).values_list("status", flat=True)
    )


def history(briefing):
    return list(BriefingStatusChange.objects.filter(briefing=briefing).values_list("from_status", "to_status"))


def test_pausing_holds_the_rest_and_resuming_sends_each_remaining_text_once(
    conference, coordinator, second_coordinator, audience, sms, dispatched
):
    briefing = compose(conference, coordinator)
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    sms.commit()
    ids = dispatched.pop(0)
    for pk in ids[:2]:
        messaging_tasks.deliver(pk)  # two texts out before the pause

    paused = briefings.pause_briefing(briefing=briefing, by=coordinator)
    assert paused.status == Status.PAUSED
    assert [messaging_tasks.deliver(pk) for pk in ids[2:]] == ["not-claimed"] * 3  # the tasks already published
    assert len(sms.outbox) == 2
    assert outbox_statuses(briefing) == [Outbound.HELD] * 3 + [Outbound.SENT] * 2

    resumed = briefings.resume_briefing(briefing=briefing, by=second_coordinator)
    assert resumed.status == Status.SENDING
    deliver(sms, dispatched)
    assert sorted(m.to for m in sms.outbox) == sorted(d.mobile for d in audience)  # each once
    assert history(briefing) == [("", "draft"), ("draft", "sending"), ("sending", "paused"), ("paused", "sending")]
    last = BriefingStatusChange.objects.filter(briefing=briefing).last()
    assert (last.changed_by, last.reason) == (second_coordinator, "3 texts queued again")


def test_cancelling_while_sending_stops_every_text_not_yet_handed_over(
    conference, coordinator, audience, sms, dispatched
):
    briefing = compose(conference, coordinator)
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    deliver(sms, dispatched, limit=1)

    cancelled = briefings.cancel_briefing(briefing=briefing, by=coordinator, reason="the debate was moved")
    assert cancelled.status == Status.CANCELLED
    assert outbox_statuses(briefing) == [Outbound.SENT] + [Outbound.SKIPPED] * 4
    assert BriefingStatusChange.objects.filter(briefing=briefing).last().reason == (
        "4 texts not sent: the debate was moved"
    )
    # Pressing send again, or resuming, sends nothing more, ever.
    with pytest.raises(ValidationError, match="cancelled"):
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    with pytest.raises(ValidationError, match="Only a paused briefing"):
        briefings.resume_briefing(briefing=briefing, by=coordinator)
    deliver(sms, dispatched)
    assert len(sms.outbox) == 1


def test_a_paused_briefing_can_be_cancelled_and_its_held_texts_are_skipped(
    conference, coordinator, audience, sms, dispatched
):
    briefing = compose(conference, coordinator)
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    briefings.pause_briefing(briefing=briefing, by=coordinator)
    briefings.cancel_briefing(briefing=briefing, by=coordinator)
    assert outbox_statuses(briefing) == [Outbound.SKIPPED] * 5
    deliver(sms, dispatched)
    assert sms.outbox == []


@pytest.mark.parametrize(
    ("service", "status", "message"),
    [
        ("pause_briefing", Status.DRAFT, "Only a briefing that is sending can be paused; this one is Draft."),
        ("pause_briefing", Status.PAUSED, "Only a briefing that is sending can be paused; this one is Paused."),
        ("resume_briefing", Status.SENDING, "Only a paused briefing can be resumed; this one is Sending."),
        ("resume_briefing", Status.SENT, "Only a paused briefing can be resumed; this one is Sent."),
        ("cancel_briefing", Status.SENT, "This briefing is already sent; nothing to cancel."),
        ("cancel_briefing", Status.CANCELLED, "This briefing is already cancelled; nothing to cancel."),
    ],
)
def test_a_move_that_makes_no_sense_is_refused_saying_why(conference, coordinator, service, status, message):
    briefing = compose(conference, coordinator)
    Briefing.objects.filter(pk=briefing.pk).update(status=status)
    with pytest.raises(ValidationError) as caught:
        getattr(briefings, service)(briefing=briefing, by=coordinator)
    assert caught.value.message_dict == {"status": [message]}
    assert Briefing.objects.get(pk=briefing.pk).status == status


def test_a_draft_can_be_cancelled_and_then_never_sent(conference, coordinator, audience, sms, dispatched):
    briefing = compose(conference, coordinator)
    briefings.cancel_briefing(briefing=briefing, by=coordinator)
    with pytest.raises(ValidationError, match="cancelled"):
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    assert not OutboundMessage.objects.exists()


def test_resuming_after_useless_after_is_refused(conference, coordinator, audience, sms, dispatched):
    briefing = compose(conference, coordinator, useless_after=timezone.now() + dt.timedelta(minutes=5))
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    briefings.pause_briefing(briefing=briefing, by=coordinator)
    Briefing.objects.filter(pk=briefing.pk).update(useless_after=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(ValidationError) as caught:
        briefings.resume_briefing(briefing=briefing, by=coordinator)
    assert "Cancel it instead" in caught.value.message_dict["useless_after"][0]


def test_sending_while_paused_is_refused(conference, coordinator, audience, sms, dispatched):
    briefing = compose(conference, coordinator)
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    briefings.pause_briefing(briefing=briefing, by=coordinator)
    with pytest.raises(ValidationError, match="paused"):
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)


def test_a_briefing_is_marked_sent_once_none_of_its_texts_is_open(conference, coordinator, audience, sms, dispatched):
    briefing = compose(conference, coordinator)
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    deliver(sms, dispatched, limit=4)
    assert briefings.finish_sent_briefings() == []  # one still queued
    assert Briefing.objects.get(pk=briefing.pk).status == Status.SENDING

    OutboundMessage.objects.filter(status=Outbound.QUEUED).update(status=Outbound.FAILED)
    assert briefings.finish_sent_briefings() == [briefing.pk]
    assert briefings.finish_sent_briefings() == []  # once
    assert history(briefing)[-1] == ("sending", "sent")


def test_finishing_takes_one_query_for_any_number_of_sending_briefings(
    conference, coordinator, audience, sms, dispatched, django_assert_num_queries
):
    for _ in range(3):
        briefings.send_briefing(briefing=compose(conference, coordinator), sent_by=coordinator)
    # The sending briefings; their batches with any open text. (None finished: no writes.)
    with django_assert_num_queries(2):
        assert briefings.finish_sent_briefings() == []


def test_texts_past_useless_after_are_skipped_by_the_worker_with_a_reason_a_person_understands(
    conference, coordinator, audience, sms, dispatched
):
    briefing = compose(conference, coordinator, useless_after=timezone.now() + dt.timedelta(minutes=5))
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    OutboundMessage.objects.update(useless_after=timezone.now() - dt.timedelta(seconds=1))
    assert set(deliver(sms, dispatched)) == {"skipped"}
    message = OutboundMessage.objects.filter(batch=briefings.batch_label(briefing.pk)).first()
    assert message.error_message == "Not sent: past its useless-after time."
    assert briefings.finish_sent_briefings() == [briefing.pk]
