import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from messaging.models import OutboundMessage
from tests.volunteers.support import LocationFactory, ShiftFactory, VolunteerFactory, at
from volunteers import services
from volunteers.models import Role, Shift, Signup, SignupChange

pytestmark = pytest.mark.django_db
Status = Signup.Status
PUBLIC = SignupChange.Source.PUBLIC


def sign(shift, volunteer=None, **kwargs):
    return services.sign_up(shift=shift, volunteer=volunteer or VolunteerFactory(), source=PUBLIC, **kwargs).signup


def test_sign_up_confirms_while_places_are_free_and_texts_a_private_link(frozen, sms):
    shift = ShiftFactory(capacity=2)
    signup = sign(shift)
    assert signup.status == Status.CONFIRMED
    message = OutboundMessage.objects.get(purpose=services.PURPOSE_CONFIRMATION)
    assert message.to == signup.volunteer.mobile and not message.marketing
    assert "/shifts/me/" in message.body and "you're down for" in message.body
    assert list(signup.changes.values_list("from_status", "to_status", "source")) == [("", "confirmed", "public")]


def test_full_shift_puts_next_volunteer_on_waitlist(frozen, sms):
    shift = ShiftFactory(capacity=1)
    sign(shift)
    second = sign(shift)
    assert second.status == Status.WAITLISTED
    assert "waitlist" in OutboundMessage.objects.filter(to=second.volunteer.mobile).get().body


def test_coordinator_assignment_to_a_full_shift_is_refused_not_waitlisted(frozen, sms):
    shift = ShiftFactory(capacity=1)
    sign(shift)
    with pytest.raises(ValidationError, match="full"):
        sign(shift, waitlist=False)
    assert shift.signups.count() == 1


def test_signing_up_twice_to_the_same_shift_is_refused(frozen, sms):
    shift, volunteer = ShiftFactory(), VolunteerFactory()
    sign(shift, volunteer)
    with pytest.raises(ValidationError, match="already signed up"):
        sign(shift, volunteer)
    assert SignupChange.objects.count() == 1


def test_overlapping_shifts_clash_but_back_to_back_shifts_do_not(frozen, sms):
    volunteer = VolunteerFactory()
    sign(ShiftFactory(starts_at=at(27, 9), ends_at=at(27, 11)), volunteer)
    with pytest.raises(ValidationError, match="overlaps another of your shifts"):
        sign(ShiftFactory(starts_at=at(27, 10), ends_at=at(27, 12)), volunteer)
    assert sign(ShiftFactory(starts_at=at(27, 11), ends_at=at(27, 13)), volunteer).status == Status.CONFIRMED


def test_cancelled_and_started_shifts_refuse_sign_ups(frozen, sms):
    with pytest.raises(ValidationError, match="cancelled"):
        sign(ShiftFactory(cancelled=True))
    with pytest.raises(ValidationError, match="already started"):
        sign(ShiftFactory(starts_at=at(25, 11), ends_at=at(25, 13)))
    assert not Signup.objects.exists()


def test_the_same_form_token_signs_up_once(frozen, sms):
    shift, volunteer, token = ShiftFactory(), VolunteerFactory(), uuid.uuid4()
    first = services.sign_up(shift=shift, volunteer=volunteer, source=PUBLIC, form_token=token)
    again = services.sign_up(shift=shift, volunteer=volunteer, source=PUBLIC, form_token=token)
    assert again.repeated and again.signup.pk == first.signup.pk
    assert Signup.objects.count() == 1 and OutboundMessage.objects.count() == 1


def test_cancelling_offers_the_place_to_the_first_on_the_waitlist(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder = sign(shift)
    first_waiting = sign(shift)
    frozen.shift(dt.timedelta(minutes=1))
    second_waiting = sign(shift)
    services.cancel_signup(signup=holder, source=PUBLIC)
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == Status.OFFERED and second_waiting.status == Status.WAITLISTED
    offer = OutboundMessage.objects.get(purpose=services.PURPOSE_OFFER)
    assert offer.to == first_waiting.volunteer.mobile
    assert "Reply Y within 20 minutes" in offer.body and "cancel" not in offer.body.lower()
    assert first_waiting.offer_expires_at == first_waiting.changes.last().at + dt.timedelta(minutes=20)


def test_one_live_offer_per_free_place(frozen, sms):
    shift = ShiftFactory(capacity=2)
    holders = [sign(shift), sign(shift)]
    waiting = [sign(shift) for _ in range(3)]
    services.cancel_signup(signup=holders[0], source=PUBLIC)
    assert Signup.objects.filter(status=Status.OFFERED).count() == 1
    services.cancel_signup(signup=holders[1], source=PUBLIC)
    assert set(Signup.objects.filter(status=Status.OFFERED).values_list("pk", flat=True)) == {
        waiting[0].pk,
        waiting[1].pk,
    }


def test_an_expired_offer_passes_to_the_next_in_line(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder, first, second = sign(shift), sign(shift), sign(shift)
    services.cancel_signup(signup=holder, source=PUBLIC)
    frozen.shift(dt.timedelta(minutes=19))
    assert services.expire_offers() == 0
    frozen.shift(dt.timedelta(minutes=2))
    assert services.expire_offers() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.CANCELLED and first.changes.last().reason == "offer expired"
    assert second.status == Status.OFFERED


def test_accepting_an_offer_confirms_and_an_expired_one_is_refused(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder, waiting = sign(shift), sign(shift)
    services.cancel_signup(signup=holder, source=PUBLIC)
    services.accept_offer(signup=waiting, source=PUBLIC)
    waiting.refresh_from_db()
    assert waiting.status == Status.CONFIRMED
    assert [c.to_status for c in waiting.changes.all()] == ["waitlisted", "offered", "confirmed"]

    other_shift = ShiftFactory(capacity=1, starts_at=at(28, 9), ends_at=at(28, 11))
    holder, late = sign(other_shift), sign(other_shift)
    services.cancel_signup(signup=holder, source=PUBLIC)
    frozen.shift(dt.timedelta(minutes=21))
    with pytest.raises(ValidationError, match="expired"):
        services.accept_offer(signup=late, source=PUBLIC)


def test_waitlisted_volunteer_now_busy_elsewhere_is_skipped(frozen, sms):
    shift = ShiftFactory(capacity=1)
    holder, busy, free = sign(shift), sign(shift), sign(shift)
    sign(ShiftFactory(starts_at=shift.starts_at, ends_at=shift.ends_at), busy.volunteer)
    services.cancel_signup(signup=holder, source=PUBLIC)
    busy.refresh_from_db()
    free.refresh_from_db()
    assert busy.status == Status.CANCELLED and free.status == Status.OFFERED


def test_cancelling_close_to_the_start_is_refused_on_the_public_side(frozen, sms, settings):
    settings.VOLUNTEER_CANCEL_CUTOFF_MINUTES = 30
    signup = sign(ShiftFactory(starts_at=at(25, 12, 20), ends_at=at(25, 14)))
    with pytest.raises(ValidationError, match="too close to the start"):
        services.cancel_signup(signup=signup, source=PUBLIC)
    services.cancel_signup(signup=signup, source=SignupChange.Source.COORDINATOR, enforce_cutoff=False)
    signup.refresh_from_db()
    assert signup.status == Status.CANCELLED


def test_signing_up_again_after_cancelling_reuses_the_row_and_keeps_history(frozen, sms):
    shift, volunteer = ShiftFactory(), VolunteerFactory()
    signup = sign(shift, volunteer)
    services.cancel_signup(signup=signup, source=PUBLIC)
    again = sign(shift, volunteer)
    assert again.pk == signup.pk and again.status == Status.CONFIRMED
    assert [c.to_status for c in again.changes.all()] == ["confirmed", "cancelled", "confirmed"]
    assert OutboundMessage.objects.filter(purpose=services.PURPOSE_CONFIRMATION).count() == 2


def test_attendance_is_recorded_for_confirmed_volunteers_only(frozen, sms, coordinator):
    shift = ShiftFactory(capacity=1)
    confirmed, waiting = sign(shift), sign(shift)
    services.record_attendance(signup=confirmed, attended=True, by=coordinator)
    confirmed.refresh_from_db()
    assert confirmed.status == Status.ATTENDED and confirmed.changes.last().by == coordinator
    with pytest.raises(ValidationError):
        services.record_attendance(signup=waiting, attended=True, by=coordinator)


def test_moving_a_shift_texts_its_volunteers(frozen, sms):
    shift = ShiftFactory(capacity=2)
    signups = [sign(shift), sign(shift)]
    services.update_shift(shift=shift, starts_at=at(27, 10), ends_at=at(27, 12))
    moved = OutboundMessage.objects.filter(purpose=services.PURPOSE_SHIFT_CHANGE)
    assert set(moved.values_list("to", flat=True)) == {s.volunteer.mobile for s in signups}
    assert "10:00" in moved.first().body
    services.update_shift(shift=shift, notes="Bring a coat")
    assert moved.count() == 2  # notes alone text nobody


def test_raising_capacity_offers_the_new_places_and_lowering_below_taken_is_refused(frozen, sms):
    shift = ShiftFactory(capacity=1, minimum=1)
    sign(shift)
    waiting = sign(shift)
    services.update_shift(shift=shift, capacity=2)
    waiting.refresh_from_db()
    assert waiting.status == Status.OFFERED
    with pytest.raises(ValidationError) as caught:
        services.update_shift(shift=shift, capacity=1)
    assert "capacity" in caught.value.message_dict


def test_cancelling_a_shift_cancels_its_signups_and_texts_them(frozen, sms):
    shift = ShiftFactory(capacity=1)
    signups = [sign(shift), sign(shift)]
    services.cancel_shift(shift=shift)
    assert set(Signup.objects.values_list("status", flat=True)) == {Status.CANCELLED}
    texts = OutboundMessage.objects.filter(purpose=services.PURPOSE_SHIFT_CHANGE)
    assert set(texts.values_list("to", flat=True)) == {s.volunteer.mobile for s in signups}
    assert not Signup.objects.filter(status=Status.OFFERED).exists()  # nobody offered a cancelled shift


def test_a_days_shifts_come_from_a_template_in_the_conference_time_zone(frozen):
    shift = ShiftFactory()
    location = LocationFactory(conference=shift.conference, name="Secure zone perimeter")
    patterns = [
        services.ShiftPattern(Role.LOBBYING, location, dt.time(8, 0), dt.time(10, 0), capacity=6, minimum=3),
        services.ShiftPattern(Role.STEWARDING, location, dt.time(22, 0), dt.time(0, 30), capacity=2),
    ]
    created = services.create_day_of_shifts(conference=shift.conference, day=dt.date(2027, 9, 28), patterns=patterns)
    assert [s.starts_at for s in created] == [at(28, 8), at(28, 22)]
    assert created[0].starts_at.utcoffset() == dt.timedelta(hours=1)  # BST
    assert created[1].ends_at == at(29, 0, 30)  # past midnight


def test_copying_a_day_repeats_its_shifts_with_nobody_signed_up(frozen, sms):
    shift = ShiftFactory(starts_at=at(27, 9), ends_at=at(27, 11), capacity=4)
    ShiftFactory(conference=shift.conference, location=shift.location, starts_at=at(27, 14), ends_at=at(27, 16))
    sign(shift)
    copies = services.copy_day(conference=shift.conference, from_day=dt.date(2027, 9, 27), to_day=dt.date(2027, 9, 28))
    assert sorted(c.starts_at for c in copies) == [at(28, 9), at(28, 14)]
    assert Shift.objects.count() == 4 and Signup.objects.count() == 1
    with pytest.raises(ValidationError):
        services.copy_day(conference=shift.conference, from_day=dt.date(2027, 9, 30), to_day=dt.date(2027, 10, 1))


def test_bad_shift_values_are_field_errors(frozen):
    shift = ShiftFactory()
    with pytest.raises(ValidationError) as caught:
        services.create_shift(
            conference=shift.conference,
            role=Role.STALL,
            location=shift.location,
            starts_at=at(27, 12),
            ends_at=at(27, 11),
            capacity=2,
            minimum=3,
        )
    assert set(caught.value.message_dict) == {"ends_at", "minimum"}


def test_register_volunteer_refuses_landlines_and_missing_consent_and_never_renames(db):
    with pytest.raises(ValidationError) as caught:
        services.register_volunteer(name="", mobile="0151 496 0000", consent_wording="", consent_source="t")
    assert set(caught.value.message_dict) == {"name", "mobile", "consent"}
    first = services.register_volunteer(name="Asha", mobile="07700 900123", consent_wording="w", consent_source="t")
    again = services.register_volunteer(
        name="Someone else", mobile="+44 7700 900123", consent_wording="w2", consent_source="t"
    )
    assert again.pk == first.pk and again.name == "Asha" and again.consent_wording == "w2"


def test_cover_asks_go_to_free_volunteers_not_asked_recently(frozen, sms):
    shift = ShiftFactory(capacity=3)
    busy = VolunteerFactory()
    sign(ShiftFactory(starts_at=shift.starts_at, ends_at=shift.ends_at), busy)
    free = VolunteerFactory()
    no_consent = VolunteerFactory(consent_given_at=None)
    assert services.ask_to_cover(shift=shift) == 1
    ask = OutboundMessage.objects.get(purpose=services.PURPOSE_COVER)
    assert ask.to == free.mobile and ask.marketing and "/shifts/cover/" in ask.body
    assert services.ask_to_cover(shift=shift) == 0  # asked within the quiet hours
    frozen.shift(dt.timedelta(hours=5))
    assert services.ask_to_cover(shift=shift) == 1
    assert not OutboundMessage.objects.filter(to__in=[busy.mobile, no_consent.mobile], purpose="volunteer_cover")
