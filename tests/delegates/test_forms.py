"""Coordinator forms: bad input becomes a field error on the page and nothing is saved."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse

from delegates.forms import DelegateForm
from delegates.models import Delegate, Organisation, Region, SmsConsent
from tests.factories import ConferenceFactory, DelegateFactory, OrganisationFactory, SmsConsentFactory

pytestmark = pytest.mark.django_db

WORDING = "I agree to texts from the campaign about conference votes. Reply STOP to stop."


@pytest.fixture
def clp(db):
    return OrganisationFactory(name="Liverpool Riverside", region=Region.NORTH_WEST, membership=1200)


def delegate_data(organisation, **overrides):
    data = {
        "organisation": organisation.pk,
        "first_name": "Ann",
        "last_name": "Quill",
        "gender": "woman",
        "seat_type": "ordinary",
        "is_attending": "on",
        "mobile": "07700 900123",
        "email": "ann@example.org",
        "notes": "",
        "consent_action": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def errors_on_page(response, field):
    assert response.status_code == 200
    assert "Nothing was saved." in response.content.decode()
    return response.context["form"].errors[field]


# --- Adding a delegate --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["07700 900123", "+44 (0)7700 900 123", "0044 7700 900123", "7700900123"])
def test_adding_a_delegate_stores_the_mobile_in_e164(coordinator_client, conference, clp, typed):
    response = coordinator_client.post(reverse("delegate-create"), delegate_data(clp, mobile=typed))
    delegate = Delegate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("delegate-detail", args=[delegate.pk])
    assert delegate.mobile == "+447700900123"
    assert delegate.conference == conference
    assert not delegate.sms_consents.exists()


@pytest.mark.parametrize(
    ("mobile", "message"),
    [
        ("0791112345", "is not a valid phone number: it has 10 digits, too few for a UK mobile"),
        ("020 7946 0000", "is not a mobile number, so it cannot receive texts"),
        ("not a number", "is not a phone number"),
        ("0" * 59, "too long"),
    ],
)
def test_a_bad_mobile_shows_a_field_error_and_saves_nothing(coordinator_client, conference, clp, mobile, message):
    response = coordinator_client.post(reverse("delegate-create"), delegate_data(clp, mobile=mobile))
    (error,) = errors_on_page(response, "mobile")
    assert message in error
    assert message in response.content.decode()
    assert not Delegate.objects.exists()


def test_a_mobile_already_used_at_this_conference_is_refused_by_name(coordinator_client, conference, clp):
    DelegateFactory(conference=conference, first_name="Bea", last_name="Rook", mobile="+447700900123")
    response = coordinator_client.post(reverse("delegate-create"), delegate_data(clp, mobile="+44 7700 900123"))
    (error,) = errors_on_page(response, "mobile")
    assert error == "Another delegate at this conference already has this mobile number: Bea Rook."
    assert Delegate.objects.count() == 1


def test_the_same_mobile_may_be_used_at_another_conference(coordinator_client, conference, clp):
    last_year = ConferenceFactory(slug="lab26", name="Labour Party Conference 2026", is_current=False)
    DelegateFactory(conference=last_year, mobile="+447700900123")
    response = coordinator_client.post(reverse("delegate-create"), delegate_data(clp))
    assert response.status_code == 302
    assert Delegate.objects.filter(conference=conference, mobile="+447700900123").exists()


def test_a_mobile_saved_by_someone_else_a_moment_ago_is_a_field_error_not_a_500(
    coordinator_client, conference, clp, monkeypatch
):
    """Two coordinators save the same number at once: clean() passed for both; the constraint decides."""
    DelegateFactory(conference=conference, mobile="+447700900123")
    monkeypatch.setattr(DelegateForm, "clean_mobile", lambda form: "+447700900123")
    response = coordinator_client.post(reverse("delegate-create"), delegate_data(clp))
    (error,) = errors_on_page(response, "mobile")
    assert "already has this mobile number" in error
    assert Delegate.objects.count() == 1


def test_the_constraint_really_is_what_catches_the_race(conference, clp):
    """Control for the test above: without the form's check, the database refuses the duplicate."""
    DelegateFactory(conference=conference, mobile="+447700900123")
    with pytest.raises(IntegrityError):
        Delegate.objects.create(conference=conference, organisation=clp, first_name="X", mobile="+447700900123")


def test_missing_names_are_field_errors(coordinator_client, conference, clp):
    response = coordinator_client.post(reverse("delegate-create"), delegate_data(clp, first_name="", last_name=""))
    assert errors_on_page(response, "first_name")
    assert response.context["form"].errors["last_name"]
    assert not Delegate.objects.exists()


def test_the_additional_woman_seat_is_for_a_woman(coordinator_client, conference, clp):
    response = coordinator_client.post(
        reverse("delegate-create"), delegate_data(clp, gender="man", seat_type="additional_woman")
    )
    assert errors_on_page(response, "seat_type") == ["The additional woman place is for a woman delegate."]
    assert not Delegate.objects.exists()


def test_an_unknown_organisation_is_a_field_error(coordinator_client, conference, clp):
    data = {**delegate_data(clp), "organisation": "999999"}
    response = coordinator_client.post(reverse("delegate-create"), data)
    assert errors_on_page(response, "organisation")


def test_the_add_form_can_start_from_an_organisation(coordinator_client, conference, clp):
    response = coordinator_client.get(reverse("delegate-create"), {"organisation": clp.pk})
    assert response.context["form"].initial["organisation"] == str(clp.pk)
    assert coordinator_client.get(reverse("delegate-create"), {"organisation": "x"}).status_code == 200


# --- Editing ------------------------------------------------------------------------------------


def test_editing_keeps_the_delegates_own_mobile(coordinator_client, conference, clp):
    delegate = DelegateFactory(conference=conference, organisation=clp, mobile="+447700900123")
    response = coordinator_client.post(
        reverse("delegate-update", args=[delegate.pk]), delegate_data(clp, first_name="Annie", mobile="07700900123")
    )
    assert response.status_code == 302
    delegate.refresh_from_db()
    assert delegate.first_name == "Annie"
    assert delegate.mobile == "+447700900123"


def test_unticking_attending_moves_the_card_vote_to_the_rest_of_the_delegation(coordinator_client, conference, clp):
    ann = DelegateFactory(conference=conference, organisation=clp, mobile="+447700900123")
    bob = DelegateFactory(conference=conference, organisation=clp, mobile="+447700900124")
    coordinator_client.post(reverse("delegate-update", args=[ann.pk]), delegate_data(clp, is_attending=None))
    assert Delegate.objects.for_list().get(pk=bob.pk).card_vote == 1200
    assert Delegate.objects.for_list().get(pk=ann.pk).card_vote == 0


# --- Consent ------------------------------------------------------------------------------------


# Frozen at conference time; log in inside it, or the session would already have expired.
FROZEN = dt.datetime(2027, 9, 20, 12, 0, tzinfo=dt.UTC)


@time_machine.travel(FROZEN, tick=False)
def test_recording_consent_keeps_how_when_what_and_who(client, coordinator, conference, clp):
    client.force_login(coordinator)
    response = client.post(
        reverse("delegate-create"),
        delegate_data(
            clp,
            consent_action="record",
            consent_method="paper_form",
            consent_wording=WORDING,
            consent_given_at="2027-09-19T18:30",
        ),
    )
    assert response.status_code == 302
    consent = SmsConsent.objects.get()
    assert consent.method == "paper_form"
    assert consent.wording == WORDING
    assert consent.recorded_by == coordinator
    assert consent.given_at == dt.datetime(2027, 9, 19, 17, 30, tzinfo=dt.UTC)  # 18:30 in London (BST)
    assert consent.withdrawn_at is None


def test_recording_consent_needs_a_method_and_the_wording(coordinator_client, conference, clp):
    response = coordinator_client.post(
        reverse("delegate-create"), delegate_data(clp, consent_action="record", consent_wording="  ")
    )
    assert errors_on_page(response, "consent_method") == ["Say how the delegate gave consent."]
    assert response.context["form"].errors["consent_wording"]
    assert not Delegate.objects.exists()
    assert not SmsConsent.objects.exists()


def test_recording_consent_needs_a_mobile(coordinator_client, conference, clp):
    response = coordinator_client.post(
        reverse("delegate-create"),
        delegate_data(clp, mobile="", consent_action="record", consent_method="in_person", consent_wording=WORDING),
    )
    assert errors_on_page(response, "mobile") == ["Add a mobile number to record consent to texts."]
    assert not SmsConsent.objects.exists()


@time_machine.travel(FROZEN, tick=False)
def test_consent_cannot_be_dated_in_the_future(client, coordinator, conference, clp):
    client.force_login(coordinator)
    response = client.post(
        reverse("delegate-create"),
        delegate_data(
            clp,
            consent_action="record",
            consent_method="in_person",
            consent_wording=WORDING,
            consent_given_at="2027-09-21T09:00",
        ),
    )
    assert errors_on_page(response, "consent_given_at") == ["Consent cannot be given in the future."]


def test_withdrawing_consent_needs_a_reason_and_keeps_the_history(coordinator_client, conference, clp):
    delegate = DelegateFactory(conference=conference, organisation=clp, mobile="+447700900123")
    SmsConsentFactory(delegate=delegate)
    url = reverse("delegate-update", args=[delegate.pk])

    response = coordinator_client.post(url, delegate_data(clp, consent_action="withdraw"))
    assert errors_on_page(response, "withdrawal_reason")
    assert delegate.current_sms_consent() is not None

    response = coordinator_client.post(
        url, delegate_data(clp, consent_action="withdraw", withdrawal_reason="Asked in person to stop")
    )
    assert response.status_code == 302
    assert delegate.current_sms_consent() is None
    (old,) = SmsConsent.objects.filter(delegate=delegate)
    assert old.withdrawal_reason == "Asked in person to stop"


def test_withdrawing_is_only_offered_when_there_is_consent(coordinator_client, conference, clp):
    delegate = DelegateFactory(conference=conference, organisation=clp)
    response = coordinator_client.post(
        reverse("delegate-update", args=[delegate.pk]),
        delegate_data(clp, consent_action="withdraw", withdrawal_reason="x"),
    )
    assert errors_on_page(response, "consent_action")


def test_recording_new_consent_replaces_the_live_one(coordinator_client, conference, clp):
    delegate = DelegateFactory(conference=conference, organisation=clp, mobile="+447700900123")
    SmsConsentFactory(delegate=delegate, wording="Old wording")
    response = coordinator_client.post(
        reverse("delegate-update", args=[delegate.pk]),
        delegate_data(clp, consent_action="record", consent_method="text_message", consent_wording=WORDING),
    )
    assert response.status_code == 302
    assert delegate.current_sms_consent().wording == WORDING
    assert SmsConsent.objects.filter(delegate=delegate).count() == 2


def test_a_bad_mobile_with_consent_saves_neither(coordinator_client, conference, clp):
    response = coordinator_client.post(
        reverse("delegate-create"),
        delegate_data(
            clp, mobile="020 7946 0000", consent_action="record", consent_method="web_form", consent_wording=WORDING
        ),
    )
    assert errors_on_page(response, "mobile")
    assert not Delegate.objects.exists() and not SmsConsent.objects.exists()


# --- Organisations ------------------------------------------------------------------------------


def organisation_data(**overrides):
    data = {
        "kind": "clp",
        "name": "Wirral West",
        "short_name": "",
        "gss_code": "e14001234",
        "region": "North West",
        "membership": "900",
        "women_members": "400",
        "young_members": "50",
        "secretary_name": "",
        "secretary_email": "",
        "secretary_phone": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_adding_an_organisation_fills_in_its_nation(coordinator_client, conference):
    response = coordinator_client.post(reverse("organisation-create"), organisation_data())
    organisation = Organisation.objects.get(name="Wirral West")
    assert response["Location"] == reverse("organisation-detail", args=[organisation.pk])
    assert organisation.nation == "England"
    assert organisation.gss_code == "E14001234"


def test_an_organisation_name_differing_only_in_case_is_refused(coordinator_client, conference, clp):
    response = coordinator_client.post(reverse("organisation-create"), organisation_data(name="LIVERPOOL riverside"))
    assert errors_on_page(response, "name") == [
        "“Liverpool Riverside” already exists. Organisation names must be unique."
    ]
    assert Organisation.objects.count() == 1


def test_a_clp_needs_its_region(coordinator_client, conference):
    response = coordinator_client.post(reverse("organisation-create"), organisation_data(region=""))
    assert errors_on_page(response, "region") == ["A CLP needs its region."]
    assert not Organisation.objects.exists()


def test_more_women_than_members_is_refused(coordinator_client, conference):
    response = coordinator_client.post(reverse("organisation-create"), organisation_data(women_members="901"))
    assert errors_on_page(response, "women_members")


def test_a_duplicate_constituency_code_is_refused(coordinator_client, conference):
    OrganisationFactory(gss_code="E14001234")
    response = coordinator_client.post(reverse("organisation-create"), organisation_data())
    assert errors_on_page(response, "gss_code")


def test_editing_an_organisation_keeps_its_own_name(coordinator_client, conference, clp):
    response = coordinator_client.post(
        reverse("organisation-update", args=[clp.pk]),
        organisation_data(name="Liverpool Riverside", gss_code="", membership="1300"),
    )
    assert response.status_code == 302
    clp.refresh_from_db()
    assert clp.membership == 1300
