"""A briefing's life after compose: pause, resume and cancel while sending (each with its history row and a
clear refusal when the move makes no sense), and `sent` once every text is settled."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from lobbying import briefings
from lobbying.models import Briefing, BriefingStatusChange, Motion
from messaging import services as messaging_services
from messaging import tasks as messaging_tasks
from messaging.models import OutboundMessage
from tests.factories import ConferenceFactory, DelegateFactory, SmsConsentFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
Status = Briefing.Status
Outbound = OutboundMessage.Status


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
    # By id: the times are frozen at different moments in some tests.
    return list(
        BriefingStatusChange.objects.filter(briefing=briefing).order_by("pk").values_list("from_status", "to_status")
    )


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
    last = BriefingStatusChange.objects.filter(briefing=briefing).order_by("pk").last()
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
    assert BriefingStatusChange.objects.filter(briefing=briefing).order_by("pk").last().reason == (
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


# When: at a time, or minutes before a motion's agenda slot ---------------------------------------------------------

NOON = dt.datetime(2026, 9, 28, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def slot_motion(conference):
    from lobbying import services

    motion = services.create_motion(conference=conference, title="Scrap the cap", text="Conference notes.")
    Motion.objects.filter(pk=motion.pk).update(scheduled_for=NOON + dt.timedelta(hours=2))
    motion.refresh_from_db()
    return motion


def test_a_briefing_scheduled_for_a_time_goes_out_once_when_due(conference, coordinator, audience, sms, dispatched):
    briefing = compose(conference, coordinator)
    with time_machine.travel(NOON, tick=False):
        scheduled = briefings.schedule_briefing(briefing=briefing, at=NOON + dt.timedelta(minutes=30), by=coordinator)
        assert (scheduled.status, scheduled.due_at) == (Status.SCHEDULED, NOON + dt.timedelta(minutes=30))
        assert briefings.send_due_briefings()["sent"] == 0
    with time_machine.travel(NOON + dt.timedelta(minutes=30), tick=False):
        assert briefings.send_due_briefings()["sent"] == 1
        assert briefings.send_due_briefings()["sent"] == 0  # a second beat run (or process) sends nothing more
    assert Briefing.objects.get(pk=briefing.pk).status == Status.SENDING
    assert OutboundMessage.objects.filter(batch=briefings.batch_label(briefing.pk)).count() == len(audience)
    assert history(briefing)[1:] == [("draft", "scheduled"), ("scheduled", "sending")]


def test_moving_the_motions_slot_moves_the_send(conference, coordinator, audience, slot_motion, sms, dispatched):
    briefing = compose(conference, coordinator)
    with time_machine.travel(NOON, tick=False):
        briefings.schedule_briefing(briefing=briefing, before_motion=slot_motion, minutes_before=15, by=coordinator)
        assert Briefing.objects.with_due_at().get(pk=briefing.pk).due_at == NOON + dt.timedelta(hours=1, minutes=45)
        # The agenda slips by an hour: the briefing follows, however the slot is moved (the due time is read from
        # the motion, never copied).
        Motion.objects.filter(pk=slot_motion.pk).update(scheduled_for=NOON + dt.timedelta(hours=3))
    with time_machine.travel(NOON + dt.timedelta(hours=1, minutes=50), tick=False):
        assert briefings.send_due_briefings()["sent"] == 0  # the old time: nothing
    with time_machine.travel(NOON + dt.timedelta(hours=2, minutes=45), tick=False):
        assert briefings.send_due_briefings()["sent"] == 1
    assert Briefing.objects.get(pk=briefing.pk).status == Status.SENDING


def test_a_motion_slot_or_time_already_past_is_refused_with_a_clear_message(
    conference, coordinator, slot_motion, audience
):
    briefing = compose(conference, coordinator)
    with time_machine.travel(NOON + dt.timedelta(hours=3), tick=False):
        with pytest.raises(ValidationError) as caught:
            briefings.schedule_briefing(briefing=briefing, before_motion=slot_motion, minutes_before=5, by=coordinator)
        assert "has already passed" in caught.value.message_dict["before_motion"][0]
        with pytest.raises(ValidationError) as caught:
            briefings.schedule_briefing(briefing=briefing, at=NOON, by=coordinator)
        assert "has passed: pick a time in the future" in caught.value.message_dict["at"][0]
    with time_machine.travel(NOON + dt.timedelta(hours=1, minutes=50), tick=False):
        with pytest.raises(ValidationError) as caught:  # 15 minutes before 14:00 was 13:45
            briefings.schedule_briefing(briefing=briefing, before_motion=slot_motion, minutes_before=15, by=coordinator)
        assert "already past" in caught.value.message_dict["minutes_before"][0]
    assert Briefing.objects.get(pk=briefing.pk).status == Status.DRAFT


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "at"),
        ({"at": NOON + dt.timedelta(hours=1), "minutes_before": 5}, "minutes_before"),
        ({"before_motion": "slot", "minutes_before": None}, "minutes_before"),
        ({"before_motion": "slot", "minutes_before": -5}, "minutes_before"),
        ({"before_motion": "unslotted", "minutes_before": 5}, "before_motion"),
    ],
)
def test_bad_schedules_are_field_errors(conference, coordinator, slot_motion, kwargs, field):
    from lobbying import services

    unslotted = services.create_motion(conference=conference, title="No slot yet", text="Conference notes.")
    motions = {"slot": slot_motion, "unslotted": unslotted}
    if "before_motion" in kwargs:
        kwargs = {**kwargs, "before_motion": motions[kwargs["before_motion"]]}
    briefing = compose(conference, coordinator)
    with time_machine.travel(NOON, tick=False), pytest.raises(ValidationError) as caught:
        briefings.schedule_briefing(briefing=briefing, by=coordinator, **kwargs)
    assert field in caught.value.message_dict


def test_a_time_after_useless_after_is_refused(conference, coordinator):
    briefing = compose(conference, coordinator, useless_after=NOON + dt.timedelta(minutes=20))
    with time_machine.travel(NOON, tick=False), pytest.raises(ValidationError) as caught:
        briefings.schedule_briefing(briefing=briefing, at=NOON + dt.timedelta(minutes=30), by=coordinator)
    assert "useless-after" in caught.value.message_dict["at"][0]


def test_unscheduling_puts_it_back_to_draft_and_it_never_goes_by_itself(
    conference, coordinator, audience, sms, dispatched
):
    briefing = compose(conference, coordinator)
    with time_machine.travel(NOON, tick=False):
        briefings.schedule_briefing(briefing=briefing, at=NOON + dt.timedelta(minutes=5), by=coordinator)
        draft = briefings.unschedule_briefing(briefing=briefing, by=coordinator)
        assert (draft.status, draft.send_at) == (Status.DRAFT, None)
    with time_machine.travel(NOON + dt.timedelta(hours=1), tick=False):
        assert briefings.send_due_briefings()["sent"] == 0
    assert not OutboundMessage.objects.exists()
    with pytest.raises(ValidationError, match="Only a scheduled briefing"):
        briefings.unschedule_briefing(briefing=briefing, by=coordinator)


def test_a_scheduled_briefing_that_cannot_go_returns_to_draft_with_the_reason(conference, coordinator, sms):
    briefing = compose(conference, coordinator)  # nobody can be texted
    with time_machine.travel(NOON, tick=False):
        briefings.schedule_briefing(briefing=briefing, at=NOON + dt.timedelta(minutes=5), by=coordinator)
    with time_machine.travel(NOON + dt.timedelta(minutes=6), tick=False):
        assert briefings.send_due_briefings()["refused"] == 1
    assert Briefing.objects.get(pk=briefing.pk).status == Status.DRAFT
    last = BriefingStatusChange.objects.filter(briefing=briefing).order_by("pk").last()
    assert last.reason.startswith("Not sent at its time: No delegate matches this audience")


def test_the_beat_task_sends_a_due_briefing_taken_by_another_process_not_at_all(
    conference, coordinator, audience, sms, dispatched
):
    """Two beat processes: the one that finds the row locked (SKIP LOCKED) leaves it to the other."""
    briefing = compose(conference, coordinator)
    with time_machine.travel(NOON, tick=False):
        briefings.schedule_briefing(briefing=briefing, at=NOON + dt.timedelta(minutes=5), by=coordinator)
    Briefing.objects.filter(pk=briefing.pk).update(status=Status.SENDING)  # the other process got there first
    with time_machine.travel(NOON + dt.timedelta(minutes=6), tick=False):
        assert briefings.send_due_briefings() == {"sent": 0, "refused": 0, "finished": 1}


def test_send_due_briefings_is_beat_scheduled(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "lobbying.tasks.send_due_briefings" in entries


# Saved lists and the test send ------------------------------------------------------------------------------------


def test_a_saved_list_narrows_the_audience_with_the_other_filters(conference, coordinator, audience, sms, dispatched):
    first, second, third, *_ = audience
    saved = briefings.create_saved_list(
        conference=conference, name="  Fringe   sign-ups ", created_by=coordinator, delegates=[first, second, third]
    )
    assert saved.name == "Fringe sign-ups"
    briefings.remove_from_saved_list(saved_list=saved, delegates=[third])
    briefing = compose(conference, coordinator, saved_list=saved)
    assert set(briefings.audience(briefing)) == {first, second}
    messaging_services.opt_out(second.mobile, source="sms_keyword")  # textable() still applies
    assert set(briefings.audience(briefing)) == {first}

    with pytest.raises(ValidationError) as caught:
        briefings.create_saved_list(conference=conference, name="fringe SIGN-UPS", created_by=coordinator)
    assert "already a list" in caught.value.message_dict["name"][0]
    other = ConferenceFactory(slug="other-conference", is_current=False)
    stranger = DelegateFactory(conference=other)
    with pytest.raises(ValidationError) as caught:
        briefings.add_to_saved_list(saved_list=saved, delegates=[stranger])
    assert "delegates" in caught.value.message_dict


def test_a_test_send_texts_the_coordinators_own_number_marked_test_with_a_real_recipients_values(
    conference, coordinator, audience, sms, dispatched
):
    briefing = compose(conference, coordinator)
    with pytest.raises(ValidationError) as caught:
        briefings.send_test_briefing(briefing=briefing, to_user=coordinator)
    assert "no mobile number" in caught.value.message_dict["to_user"][0]
    with pytest.raises(ValidationError) as caught:
        briefings.set_coordinator_mobile(user=coordinator, mobile="0161 496 0000")
    assert "mobile" in caught.value.message_dict

    briefings.set_coordinator_mobile(user=coordinator, mobile="07700 900999")
    message = briefings.send_test_briefing(briefing=briefing, to_user=coordinator)
    first = min(audience, key=lambda d: d.pk)
    assert (message.to, message.purpose) == ("+447700900999", "briefing_test")
    assert f"[TEST] Hi {first.first_name}: vote FOR composite 3" in message.body
    assert "Reply STOP" in message.body  # exactly what delegates will see, sender name and STOP line included
    assert not OutboundMessage.objects.filter(to__in=[d.mobile for d in audience]).exists()
    assert Briefing.objects.get(pk=briefing.pk).status == Status.DRAFT
