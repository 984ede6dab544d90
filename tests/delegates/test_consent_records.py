"""A delegate's consent is proof only with its words and who or where it came from (PECR, domain.md 5.3)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from delegates.imports import import_delegates
from delegates.models import SmsConsent
from delegates.services import record_sms_consent
from tests.factories import DelegateFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
WORDING = "I agree to texts from Free Movement about votes at conference. I can reply STOP."


def test_verbal_consent_names_the_coordinator_who_heard_it(conference, coordinator):
    delegate = DelegateFactory(conference=conference)
    with pytest.raises(ValidationError) as refused:
        record_sms_consent(delegate=delegate, method=SmsConsent.Method.IN_PERSON, wording=WORDING)
    assert "recorded_by" in refused.value.message_dict
    assert not SmsConsent.objects.exists()

    consent = record_sms_consent(
        delegate=delegate, method=SmsConsent.Method.IN_PERSON, wording=WORDING, recorded_by=coordinator
    )
    assert consent.recorded_by == coordinator


def test_consent_from_a_list_says_which_list_and_a_blank_wording_is_refused(conference):
    delegate = DelegateFactory(conference=conference)
    with pytest.raises(ValidationError) as refused:
        record_sms_consent(delegate=delegate, method=SmsConsent.Method.IMPORT, wording="  ")
    assert set(refused.value.message_dict) == {"wording", "source"}

    consent = record_sms_consent(
        delegate=delegate, method=SmsConsent.Method.IMPORT, wording=WORDING, source="fringe sign-up sheet, Monday"
    )
    assert consent.source == "fringe sign-up sheet, Monday"


def test_an_imported_file_names_itself_on_the_consents_it_carries(conference):
    OrganisationFactory(name="Wirral West")
    data = (
        "first_name,last_name,organisation,gender,seat_type,mobile,sms_consent_wording\n"
        f"Ada,Lovelace,Wirral West,woman,ordinary,07700 900101,{WORDING}\n"
    ).encode()

    report = import_delegates(data=data, conference=conference, source="imported file delegates-monday.csv")

    assert report.ok, report.problems
    consent = SmsConsent.objects.get()
    assert (consent.method, consent.wording, consent.source) == (
        SmsConsent.Method.IMPORT,
        WORDING,
        "imported file delegates-monday.csv",
    )


def test_the_delegate_page_shows_who_recorded_each_consent_and_where_it_came_from(coordinator_client, coordinator):
    delegate = DelegateFactory()
    record_sms_consent(delegate=delegate, method=SmsConsent.Method.IMPORT, wording=WORDING, source="paper list 3")
    page = coordinator_client.get(reverse("delegate-detail", args=[delegate.pk])).content.decode()
    assert "from paper list 3" in page
