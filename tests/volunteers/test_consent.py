"""Volunteers' consent to texts: recorded at sign-up with the exact words on the form, kept as evidence,
withdrawn on request or by STOP; asks to cover a shift are campaign texts and need it, shift texts do not."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse

from messaging import services as messaging
from messaging.models import OptOutEvent, OutboundMessage
from messaging.services import TRANSACTIONAL
from tests.volunteers.support import ShiftFactory, VolunteerFactory
from volunteers import services
from volunteers.forms import SignupForm
from volunteers.models import Volunteer, VolunteerConsent

pytestmark = pytest.mark.django_db
Status = OutboundMessage.Status


def sign_up_on_the_form(client, shift, mobile="07700 900123"):
    data = {"name": "Asha Patel", "mobile": mobile, "email": "", "consent": "on", "form_token": str(uuid.uuid4())}
    return client.post(reverse("volunteers:shift-signup", args=[shift.pk]), data)


def test_the_public_form_records_consent_with_the_exact_words_it_showed(client, frozen, sms):
    shift = ShiftFactory()
    shown = reverse("volunteers:shift-signup", args=[shift.pk])
    assert str(SignupForm().fields["consent"].label) in client.get(shown).content.decode()

    sign_up_on_the_form(client, shift)

    consent = VolunteerConsent.objects.get()
    assert consent.volunteer == Volunteer.objects.get(mobile="+447700900123")
    assert consent.wording == str(SignupForm().fields["consent"].label) == services.CONSENT_WORDING
    assert (consent.source, consent.recorded_by, consent.withdrawn_at) == ("public sign-up form", None, None)


def test_signing_up_again_keeps_one_live_consent_and_new_words_replace_the_old_as_history(frozen):
    services.register_volunteer(name="Asha", mobile="07700 900123", consent_wording="w1", consent_source="form")
    services.register_volunteer(name="Asha", mobile="07700 900123", consent_wording="w1", consent_source="form")
    assert VolunteerConsent.objects.count() == 1

    services.register_volunteer(name="Asha", mobile="07700 900123", consent_wording="w2", consent_source="form")

    old, new = VolunteerConsent.objects.order_by("pk")
    assert (old.wording, old.withdrawal_reason) == ("w1", "Replaced by a newer consent") and old.withdrawn_at
    assert (new.wording, new.withdrawn_at) == ("w2", None)


def test_a_coordinator_who_records_a_new_volunteers_consent_is_named_on_it(coordinator_client, coordinator, sms):
    shift = ShiftFactory(starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    coordinator_client.post(
        reverse("volunteers:shift-assign", args=[shift.pk]), {"name": "Ben", "mobile": "07700 900124", "consent": "on"}
    )
    assert VolunteerConsent.objects.get().recorded_by == coordinator


def test_a_cover_ask_relies_on_the_volunteers_consent_and_says_so(frozen, sms):
    shift = ShiftFactory(capacity=3)
    volunteer = VolunteerFactory()

    assert services.ask_to_cover(shift=shift) == 1

    ask = OutboundMessage.objects.get(purpose=services.PURPOSE_COVER)
    assert (ask.to, ask.status, ask.marketing) == (volunteer.mobile, Status.QUEUED, True)
    assert ask.consent_basis.startswith("volunteer's consent given ")


def test_withdrawn_consent_stops_cover_asks_and_a_direct_campaign_text_is_skipped_saying_when(frozen, sms):
    shift = ShiftFactory(capacity=3)
    volunteer = VolunteerFactory()

    assert services.withdraw_volunteer_consent(volunteer=volunteer, reason="asked at the stall")

    assert services.ask_to_cover(shift=shift) == 0
    text = messaging.send_sms(to=volunteer.mobile, body="Can you cover?", key="k1", purpose="volunteer_cover")
    assert (text.status, text.error_message) == (Status.SKIPPED, "consent withdrawn on 25 Sep 2027")
    evidence = VolunteerConsent.objects.get()
    assert evidence.withdrawal_reason == "asked at the stall" and evidence.withdrawn_at


def test_shift_texts_are_transactional_and_sent_without_consent_checks(frozen, sms):
    shift = ShiftFactory(capacity=3)
    volunteer = VolunteerFactory(consent_given_at=None)  # e.g. consent withdrawn: service messages go on

    services.sign_up(shift=shift, volunteer=volunteer, source="coordinator")

    confirmation = OutboundMessage.objects.get(to=volunteer.mobile)
    assert (confirmation.status, confirmation.marketing) == (Status.QUEUED, False)
    assert confirmation.consent_basis == TRANSACTIONAL


def test_a_volunteer_who_texted_stop_gets_no_cover_ask_and_the_admin_shows_it(frozen, sms, admin_client):
    shift = ShiftFactory(capacity=3)
    volunteer = VolunteerFactory()
    messaging.receive_inbound(from_number=volunteer.mobile, to_number="+447700900999", body="STOP", provider_sid="S1")

    services.ask_to_cover(shift=shift)

    ask = OutboundMessage.objects.get(purpose=services.PURPOSE_COVER)
    assert (ask.status, ask.error_code) == (Status.SKIPPED, "opted_out")
    assert OptOutEvent.objects.filter(number=volunteer.mobile, action="opt_out").exists()
    response = admin_client.get(reverse("admin:volunteers_volunteer_change", args=[volunteer.pk]))
    assert response.status_code == 200, response.headers
    page = response.content.decode()
    assert "Texted STOP" in page and "icon-yes.svg" in page
    listing = admin_client.get(reverse("admin:volunteers_volunteer_changelist")).content.decode()
    assert "icon-yes.svg" in listing
