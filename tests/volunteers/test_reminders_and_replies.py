import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging.models import InboundMessage, OutboundMessage
from messaging.services import receive_inbound
from tests.messaging.core_support import post_signed
from tests.volunteers.support import LONDON, ShiftFactory, VolunteerFactory, at
from volunteers import services
from volunteers.models import Signup
from volunteers.reminders import Rung, due_rung, parse_ladder

pytestmark = pytest.mark.django_db
Status = Signup.Status


def sign(shift, volunteer=None):
    return services.sign_up(shift=shift, volunteer=volunteer or VolunteerFactory(), source="public").signup


def reminders():
    return OutboundMessage.objects.filter(purpose=services.PURPOSE_REMINDER).order_by("id")


def reply(volunteer, body, sid):
    return receive_inbound(from_number=volunteer.mobile, to_number="+447700900999", body=body, provider_sid=sid)


# --- The ladder -----------------------------------------------------------------------------------


def test_the_ladder_reads_evening_times_and_minutes_before():
    assert parse_ladder("18:00, 60m") == (
        Rung("eve-1800", evening_time=dt.time(18, 0)),
        Rung("before-60m", minutes_before=60),
    )
    assert parse_ladder("") == ()


@pytest.mark.parametrize("value", ["25:00", "6pm", "60", "-5m"])
def test_a_malformed_ladder_names_the_setting(value):
    with pytest.raises(ImproperlyConfigured, match="VOLUNTEER_REMINDERS"):
        parse_ladder(value)


def test_only_the_latest_due_rung_counts_and_none_once_started():
    rungs = parse_ladder("18:00,60m")
    start = dt.datetime(2027, 9, 27, 9, 0, tzinfo=LONDON)
    early = dt.datetime(2027, 9, 20, tzinfo=LONDON)
    assert due_rung(rungs, local_start=start, now=start - dt.timedelta(hours=16), since=early) is None
    assert due_rung(rungs, local_start=start, now=start - dt.timedelta(hours=15), since=early).name == "eve-1800"
    assert due_rung(rungs, local_start=start, now=start - dt.timedelta(minutes=59), since=early).name == "before-60m"
    assert due_rung(rungs, local_start=start, now=start, since=early) is None


# --- Sending reminders ----------------------------------------------------------------------------


def test_each_rung_is_sent_once_per_signup(frozen, sms):
    signup = sign(ShiftFactory(starts_at=at(27, 9), ends_at=at(27, 11)))
    frozen.move_to(at(26, 17, 59))
    assert services.send_due_reminders() == 0
    frozen.move_to(at(26, 18, 0))
    assert services.send_due_reminders() == 1
    frozen.move_to(at(26, 18, 1))
    assert services.send_due_reminders() == 0  # the beat runs every minute: same rung, same key, nothing new
    frozen.move_to(at(27, 8, 0))
    assert services.send_due_reminders() == 1
    frozen.move_to(at(27, 8, 30))
    assert services.send_due_reminders() == 0
    keys = list(reminders().values_list("idempotency_key", flat=True))
    assert keys == [f"volunteers:reminder:{signup.pk}:eve-1800", f"volunteers:reminder:{signup.pk}:before-60m"]
    body = reminders().first().body
    assert "Reply Y to confirm" in body and "X if you can't make it" in body
    assert "cancel" not in body.lower()  # CANCEL would opt them out of every text


def test_reminders_skip_cancelled_signups_cancelled_shifts_waitlists_and_started_shifts(frozen, sms):
    shift = ShiftFactory(capacity=1, starts_at=at(27, 9), ends_at=at(27, 11))
    sign(shift)
    sign(shift)  # waitlisted: no reminder
    services.cancel_signup(signup=sign(ShiftFactory(starts_at=at(27, 12), ends_at=at(27, 14))), source="public")
    sign(ShiftFactory(starts_at=at(27, 15), ends_at=at(27, 17)))
    services.cancel_shift(shift=ShiftFactory(starts_at=at(27, 15), ends_at=at(27, 17)))
    frozen.move_to(at(26, 18, 0))
    assert services.send_due_reminders() == 2  # the confirmed ones at 09:00 and 15:00
    frozen.move_to(at(27, 9, 30))  # the 09:00 shift has started; the 15:00 one's 1-hour rung isn't due
    assert services.send_due_reminders() == 0


def test_the_ladder_is_configurable(frozen, sms, settings):
    settings.VOLUNTEER_REMINDER_LADDER = parse_ladder("20:30,15m")
    sign(ShiftFactory(starts_at=at(27, 9), ends_at=at(27, 11)))
    frozen.move_to(at(26, 18, 0))
    assert services.send_due_reminders() == 0
    frozen.move_to(at(26, 20, 30))
    assert services.send_due_reminders() == 1
    frozen.move_to(at(27, 8, 45))
    assert services.send_due_reminders() == 1


# --- Replies --------------------------------------------------------------------------------------


def test_y_to_a_reminder_reconfirms_and_x_cancels_and_offers_the_place(frozen, sms):
    shift = ShiftFactory(capacity=1, starts_at=at(27, 9), ends_at=at(27, 11))
    holder, waiting = sign(shift), sign(shift)
    frozen.move_to(at(26, 18, 0))
    services.send_due_reminders()
    inbound = reply(holder.volunteer, "y", "SM1")
    holder.refresh_from_db()
    assert inbound.handled and holder.status == Status.CONFIRMED and holder.reconfirmed_at is not None
    reply(holder.volunteer, "X", "SM2")
    holder.refresh_from_db()
    waiting.refresh_from_db()
    assert holder.status == Status.CANCELLED and holder.changes.last().source == "sms"
    assert waiting.status == Status.OFFERED


def test_y_to_an_offer_by_webhook_takes_the_place(client, frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder, waiting = sign(shift), sign(shift)
    services.cancel_signup(signup=holder, source="public")
    params = {"MessageSid": "SM" + "b" * 32, "From": waiting.volunteer.mobile, "To": "+447700900999", "Body": "Y"}
    assert post_signed(client, "twilio-inbound", params).status_code == 200
    waiting.refresh_from_db()
    assert waiting.status == Status.CONFIRMED
    assert InboundMessage.objects.get().handled


def test_x_to_an_offer_passes_it_on(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder, first, second = sign(shift), sign(shift), sign(shift)
    services.cancel_signup(signup=holder, source="public")
    reply(first.volunteer, "x", "SM3")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.CANCELLED and second.status == Status.OFFERED


def test_a_late_y_is_answered_politely_and_changes_nothing(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder, waiting = sign(shift), sign(shift)
    services.cancel_signup(signup=holder, source="public")
    frozen.shift(dt.timedelta(minutes=25))
    reply(waiting.volunteer, "Y", "SM4")
    waiting.refresh_from_db()
    assert waiting.status == Status.OFFERED  # the sweeper will pass it on
    assert "expired" in OutboundMessage.objects.order_by("-id").first().body


def test_other_replies_are_left_for_a_coordinator(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder = sign(shift)
    frozen.move_to(at(26, 18, 0))
    services.send_due_reminders()
    inbound = reply(holder.volunteer, "Running 10 minutes late", "SM5")
    holder.refresh_from_db()
    assert not inbound.handled and holder.status == Status.CONFIRMED


def test_cancel_is_an_opt_out_and_never_touches_the_signup(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder = sign(shift)
    frozen.move_to(at(26, 18, 0))
    services.send_due_reminders()
    reply(holder.volunteer, "CANCEL", "SM6")
    holder.refresh_from_db()
    assert holder.status == Status.CONFIRMED  # messaging's opt-out word: we never asked for it


def test_a_reply_from_another_number_cannot_act_on_someone_elses_signup(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder = sign(shift)
    frozen.move_to(at(26, 18, 0))
    services.send_due_reminders()
    message = reminders().get()
    stranger = VolunteerFactory()
    inbound = InboundMessage.objects.create(
        from_number=stranger.mobile, body="X", in_reply_to=message, purpose=message.purpose
    )
    assert services.handle_reply(inbound) is False
    holder.refresh_from_db()
    assert holder.status == Status.CONFIRMED
