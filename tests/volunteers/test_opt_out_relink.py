"""An erased volunteer who had texted STOP and signs up again: the sign-up puts the number back on the opt-out
row, so the volunteer admin's "Texted STOP" (matched by number) shows it, and no text reaches them."""

import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from messaging import services as messaging
from messaging.models import OptOut, OptOutEvent, OutboundMessage
from messaging.privacy import number_hash
from privacy import erasure
from tests.volunteers.support import ShiftFactory, VolunteerFactory
from volunteers import services
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db
NUMBER = "+447700900555"


@pytest.fixture
def erased(coordinator):
    """Val signed up, texted STOP and was erased on request: the opt-out survives only as the keyed hash."""
    VolunteerFactory(name="Val Jones", mobile=NUMBER)
    messaging.opt_out(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    erasure.erase(plan=erasure.plan_erasure(lookup=erasure.find_person(query=NUMBER)), actor=coordinator)
    row = OptOut.objects.get(number_hash=number_hash(NUMBER))
    assert (row.number, row.opted_out) == ("", True)
    assert not Volunteer.objects.filter(mobile=NUMBER).exists()
    return row


def public_form(admin_client, coordinator):
    shift = ShiftFactory()
    data = {
        "name": "Val Jones",
        "mobile": "07700 900555",
        "email": "",
        "consent": "on",
        "form_token": str(uuid.uuid4()),
    }
    response = admin_client.post(reverse("volunteers:shift-signup", args=[shift.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    # The confirmation is a service text: the opt-out list still stops it.
    assert OutboundMessage.objects.get(to=NUMBER).error_code == "opted_out"


def api(admin_client, coordinator):
    client = APIClient()
    client.force_authenticate(coordinator)
    response = client.post(
        "/api/volunteers/", {"name": "Val Jones", "mobile": "07700 900555", "consent_wording": "Yes"}, format="json"
    )
    assert response.status_code == 201, response.json()


def admin_change(admin_client, coordinator):
    """A volunteer record given the number in the admin."""
    other = VolunteerFactory(name="Val Jones", mobile="+447700900556")
    data = {
        "name": "Val Jones",
        "mobile": "07700 900555",
        "email": "",
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:volunteers_volunteer_change", args=[other.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]


WRITERS = [public_form, api, admin_change]


@pytest.mark.parametrize("writer", WRITERS, ids=[w.__name__ for w in WRITERS])
def test_an_erased_volunteer_who_opted_out_entered_again_gets_the_opt_out_back(
    writer, frozen, sms, erased, admin_client, coordinator
):
    writer(admin_client, coordinator)

    erased.refresh_from_db()
    assert (erased.number, erased.opted_out) == (NUMBER, True)
    assert OptOutEvent.objects.filter(opt_out=erased, number=NUMBER, action=OptOutEvent.Action.RELINK).exists()
    volunteer = Volunteer.objects.get(mobile=NUMBER)
    page = admin_client.get(reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])).content.decode()
    assert "Texted STOP" in page and "icon-yes.svg" in page


def test_registering_again_through_the_service_relinks_inside_its_transaction(frozen, sms, erased):
    volunteer = services.register_volunteer(
        name="Val Jones", mobile="07700 900555", consent_wording=services.CONSENT_WORDING, consent_source="test"
    )
    assert volunteer.mobile == NUMBER
    assert OptOut.objects.get().number == NUMBER
    assert messaging.is_opted_out(NUMBER)
