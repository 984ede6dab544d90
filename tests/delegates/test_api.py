"""The API: coordinators only, filters shared with the pages, 400s per field, query counts that stay flat."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from delegates.models import Conference, Delegate, Organisation
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory, UnionFactory

DELEGATES = reverse("api-delegate-list")
ORGANISATIONS = reverse("api-organisation-list")
CONFERENCES = reverse("api-conference-list")


def delegate_url(delegate):
    return reverse("api-delegate-detail", args=[delegate.pk])


@pytest.fixture
def walton(db):
    return OrganisationFactory(name="Liverpool Walton", gss_code="E14001234", membership=1500)


@pytest.fixture
def unite(db):
    return UnionFactory(name="Unite the Union", membership=1_000_000)


def new_delegate(organisation, /, **overrides):
    return {
        "organisation": organisation.pk,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "gender": "woman",
        "mobile": "07700 900123",
        **overrides,
    }


# --- Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [DELEGATES, ORGANISATIONS, CONFERENCES, reverse("schema")])
def test_anonymous_requests_get_401(db, url):
    response = APIClient().get(url)

    assert response.status_code == 401


@pytest.mark.parametrize("url", [DELEGATES, ORGANISATIONS, CONFERENCES])
def test_non_coordinators_get_403_with_a_token(outsider, url):
    _, key = AuthToken.objects.create(user=outsider)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api.get(url).status_code == 403


def test_non_coordinators_get_403_with_a_session(outsider_client):
    assert outsider_client.get(DELEGATES).status_code == 403
    assert outsider_client.post(ORGANISATIONS, {"name": "X", "kind": "clp"}).status_code == 403


def test_a_coordinator_token_authenticates(coordinator, conference, walton):
    DelegateFactory(conference=conference, organisation=walton)
    _, key = AuthToken.objects.create(user=coordinator)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.get(DELEGATES)

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_bad_token_gets_401(db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api.get(DELEGATES).status_code == 401


def test_session_auth_works_for_coordinators_and_needs_csrf_for_writes(coordinator, conference, walton):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(coordinator)

    assert api.get(DELEGATES).status_code == 200
    assert api.post(DELEGATES, new_delegate(walton), format="json").status_code == 403


def test_schema_and_docs_are_served_to_coordinators(coordinator_client):
    assert coordinator_client.get(reverse("schema")).status_code == 200
    assert coordinator_client.get(reverse("api-docs")).status_code == 200


@pytest.mark.parametrize("url", [DELEGATES, ORGANISATIONS, CONFERENCES])
def test_the_browsable_api_renders_for_coordinators(coordinator_client, conference, walton, url):
    DelegateFactory(conference=conference, organisation=walton)

    response = coordinator_client.get(url, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_schema_validates_without_warnings(db):
    out = io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    assert "/api/delegates/" in out.getvalue()


# --- Delegates: reading ---------------------------------------------------------------------------------


def test_delegate_output_has_organisation_section_card_vote_and_consent(api_client, conference, walton):
    ada = DelegateFactory(conference=conference, organisation=walton, first_name="Ada", mobile="+447700900001")
    DelegateFactory(conference=conference, organisation=walton, mobile="+447700900002")
    DelegateFactory(conference=conference, organisation=walton, mobile="+447700900003", is_attending=False)
    SmsConsentFactory(delegate=ada)

    data = api_client.get(delegate_url(ada)).json()

    assert data["organisation"] == walton.pk
    assert data["organisation_name"] == "Liverpool Walton"
    assert data["section"] == "clp"
    assert data["card_vote"] == 750.0  # 1,500 members shared by the 2 attending delegates
    assert data["has_sms_consent"] is True
    assert data["mobile"] == "+447700900001"
    assert data["conference"] == conference.pk


def test_the_list_is_the_current_conference_unless_another_is_asked_for(api_client, conference, walton):
    last_year = Conference.objects.create(
        name="Labour 2026", slug="lab26", starts_on=dt.date(2026, 9, 27), ends_on=dt.date(2026, 9, 30)
    )
    DelegateFactory(conference=conference, organisation=walton, first_name="Now")
    DelegateFactory(conference=last_year, organisation=walton, first_name="Then")

    def names(url):
        return [d["first_name"] for d in api_client.get(url).json()["results"]]

    assert names(DELEGATES) == ["Now"]
    assert names(f"{DELEGATES}?conference={last_year.pk}") == ["Then"]
    assert api_client.get(f"{DELEGATES}?conference=999").json() == {"conference": ["No conference with id 999."]}
    assert api_client.get(f"{DELEGATES}?conference=x").status_code == 400


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=lovelace", ["Ada"]),
        ("section=affiliates", ["Una"]),
        ("section=clp", ["Ada", "Bob"]),
        ("kind=trade_union", ["Una"]),
        ("region=North+West", ["Ada", "Bob"]),
        ("seat_type=youth", ["Bob"]),
        ("gender=man", ["Bob"]),
        ("is_attending=false", ["Bob"]),
        ("has_sms_consent=true", ["Una"]),
        ("ordering=-first_name", ["Una", "Bob", "Ada"]),
    ],
)
def test_delegate_filters(api_client, conference, walton, unite, query, expected):
    DelegateFactory(conference=conference, organisation=walton, first_name="Ada", last_name="Lovelace")
    DelegateFactory(
        conference=conference,
        organisation=walton,
        first_name="Bob",
        last_name="Brown",
        gender="man",
        seat_type="youth",
        is_attending=False,
    )
    una = DelegateFactory(conference=conference, organisation=unite, first_name="Una", last_name="Union")
    SmsConsentFactory(delegate=una)

    response = api_client.get(f"{DELEGATES}?{query}")

    assert response.status_code == 200
    assert sorted(d["first_name"] for d in response.json()["results"]) == sorted(expected)
    if query.startswith("ordering"):
        assert [d["first_name"] for d in response.json()["results"]] == expected


def test_filtering_by_organisation(api_client, conference, walton, unite):
    DelegateFactory(conference=conference, organisation=walton, first_name="Ada")
    DelegateFactory(conference=conference, organisation=unite, first_name="Una")

    response = api_client.get(f"{DELEGATES}?organisation={unite.pk}")

    assert [d["first_name"] for d in response.json()["results"]] == ["Una"]
    assert api_client.get(f"{DELEGATES}?organisation=99999").status_code == 400


def test_a_bad_filter_value_is_a_400_naming_the_filter(api_client, conference):
    response = api_client.get(f"{DELEGATES}?gender=robot")

    assert response.status_code == 400
    assert "gender" in response.json()


def test_delegates_are_paginated(api_client, conference, walton):
    DelegateFactory.create_batch(3, conference=conference, organisation=walton)

    data = api_client.get(f"{DELEGATES}?page_size=2").json()

    assert data["count"] == 3
    assert len(data["results"]) == 2
    assert data["next"]


def build_delegates(conference, n):
    """n delegates across n // 5 + 1 organisations, half with consent, created in bulk."""
    organisations = Organisation.objects.bulk_create(
        OrganisationFactory.build(name=f"Constituency {i}") for i in range(n // 5 + 1)
    )
    Delegate.objects.bulk_create(
        Delegate(
            conference=conference,
            organisation=organisations[i % len(organisations)],
            first_name=f"First{i}",
            last_name=f"Last{i}",
            mobile=f"+4477009{i:05d}" if i < 1000 else "",
        )
        for i in range(n)
    )


@pytest.mark.parametrize("n", [10, 1000])
def test_delegate_list_query_count_does_not_grow(api_client, conference, django_assert_max_num_queries, n):
    build_delegates(conference, n)
    # 1 coordinator group check, 1 current conference, 1 COUNT, 1 page of delegates with their
    # organisation and conference joined and card vote and consent as subqueries, 1 access audit event (a page
    # bigger than the default is a bulk download).
    with django_assert_max_num_queries(5):
        response = api_client.get(f"{DELEGATES}?page_size=500")

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(n, 500)


@pytest.mark.parametrize("n", [10, 1000])
def test_delegate_list_with_filters_and_token_auth_keeps_its_query_count(
    coordinator, conference, django_assert_max_num_queries, n
):
    build_delegates(conference, n)
    _, key = AuthToken.objects.create(user=coordinator)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    # 1 token with its user, 1 knox sweep of the user's expired tokens, 1 group check, 1 current conference,
    # 1 organisation filter lookup, 1 COUNT, 1 page.
    organisation = Organisation.objects.order_by("pk").first()
    with django_assert_max_num_queries(7):
        response = api.get(f"{DELEGATES}?section=clp&has_sms_consent=false&organisation={organisation.pk}")

    assert response.status_code == 200


@pytest.mark.parametrize("n", [10, 1000])
def test_organisation_list_query_count_does_not_grow(api_client, db, django_assert_max_num_queries, n):
    Organisation.objects.bulk_create(OrganisationFactory.build(name=f"Constituency {i}") for i in range(n))
    # 1 group check, 1 COUNT, 1 page, 1 access audit event (a bigger page than the default).
    with django_assert_max_num_queries(4):
        response = api_client.get(f"{ORGANISATIONS}?page_size=500&section=clp")

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(n, 500)


# --- Delegates: writing ---------------------------------------------------------------------------------


def test_creating_a_delegate_normalises_the_mobile_into_the_current_conference(api_client, conference, walton):
    response = api_client.post(DELEGATES, new_delegate(walton, mobile="+44 (0)7700 900123"), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["mobile"] == "+447700900123"
    assert data["card_vote"] == 1500.0
    assert data["has_sms_consent"] is False
    assert Delegate.objects.get().conference == conference


def test_creating_into_another_conference(api_client, conference, walton):
    other = Conference.objects.create(
        name="Labour 2026", slug="lab26", starts_on=dt.date(2026, 9, 27), ends_on=dt.date(2026, 9, 30)
    )

    response = api_client.post(f"{DELEGATES}?conference={other.pk}", new_delegate(walton), format="json")

    assert response.status_code == 201
    assert Delegate.objects.get().conference == other


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mobile": "12345"}, "mobile", "“12345” is not a valid phone number: it has 5 digits, too few"),
        ({"mobile": "0161 496 0000"}, "mobile", "is not a mobile number"),
        ({"first_name": ""}, "first_name", "Enter a first name."),
        ({"first_name": "   "}, "first_name", "Enter a first name."),
        ({"last_name": None}, "last_name", "This field may not be null."),
        ({"organisation": 99999}, "organisation", "No organisation with id 99999."),
        ({"organisation": "walton"}, "organisation", "Give the id."),
        ({"gender": "robot"}, "gender", '"robot" is not a valid choice.'),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"gender": "man", "seat_type": "additional_woman"}, "seat_type", "The additional woman place is for a woman"),
    ],
)
def test_bad_delegate_input_gets_a_400_on_the_field(api_client, conference, walton, overrides, field, message):
    response = api_client.post(DELEGATES, new_delegate(walton, **overrides), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert Delegate.objects.count() == 0


def test_missing_names_and_organisation_are_each_reported(api_client, conference):
    response = api_client.post(DELEGATES, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"first_name", "last_name", "organisation"}
    assert response.json()["first_name"] == ["Enter a first name."]


def test_a_duplicate_mobile_in_the_same_conference_is_a_400_not_a_500(api_client, conference, walton):
    DelegateFactory(conference=conference, organisation=walton, mobile="+447700900123")

    response = api_client.post(DELEGATES, new_delegate(walton, mobile="07700900123"), format="json")

    assert response.status_code == 400
    assert response.json() == {"mobile": ["Another delegate at this conference already has this mobile."]}


def test_the_same_mobile_at_another_conference_is_fine(api_client, conference, walton):
    other = Conference.objects.create(
        name="Labour 2026", slug="lab26", starts_on=dt.date(2026, 9, 27), ends_on=dt.date(2026, 9, 30)
    )
    DelegateFactory(conference=other, organisation=walton, mobile="+447700900123")

    response = api_client.post(DELEGATES, new_delegate(walton), format="json")

    assert response.status_code == 201


def test_a_race_to_the_same_mobile_ends_in_a_400_from_the_constraint(api_client, conference, walton, monkeypatch):
    DelegateFactory(conference=conference, organisation=walton, mobile="+447700900123")
    # Skip the friendly check, as if the other request committed just after it ran.
    monkeypatch.setattr("delegates.api.DelegateSerializer.validate_mobile", lambda self, value: "+447700900123")

    response = api_client.post(DELEGATES, new_delegate(walton), format="json")

    assert response.status_code == 400
    assert response.json() == {"mobile": ["Another delegate at this conference already has this mobile."]}


def test_partial_update_changes_only_what_is_sent(api_client, conference, walton):
    ada = DelegateFactory(conference=conference, organisation=walton, first_name="Ada", mobile="+447700900001")

    response = api_client.patch(delegate_url(ada), {"mobile": "07700 900009"}, format="json")

    assert response.status_code == 200
    ada.refresh_from_db()
    assert (ada.first_name, ada.mobile) == ("Ada", "+447700900009")
    assert response.json()["organisation_name"] == "Liverpool Walton"


def test_keeping_ones_own_mobile_is_not_a_duplicate(api_client, conference, walton):
    ada = DelegateFactory(conference=conference, organisation=walton, mobile="+447700900001")

    response = api_client.patch(delegate_url(ada), {"mobile": "07700900001", "notes": "Met at fringe"}, format="json")

    assert response.status_code == 200


def test_patching_to_another_delegates_mobile_is_a_400(api_client, conference, walton):
    DelegateFactory(conference=conference, organisation=walton, mobile="+447700900001")
    bob = DelegateFactory(conference=conference, organisation=walton, mobile="+447700900002")

    response = api_client.patch(delegate_url(bob), {"mobile": "+447700900001"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["mobile"]


def test_put_replaces_a_delegate(api_client, conference, walton, unite):
    ada = DelegateFactory(conference=conference, organisation=walton)

    response = api_client.put(delegate_url(ada), new_delegate(unite, first_name="Ada", mobile=""), format="json")

    assert response.status_code == 200
    ada.refresh_from_db()
    assert (ada.organisation, ada.mobile) == (unite, "")


def test_the_conference_of_a_delegate_cannot_be_changed_through_the_api(api_client, conference, walton):
    other = Conference.objects.create(
        name="Labour 2026", slug="lab26", starts_on=dt.date(2026, 9, 27), ends_on=dt.date(2026, 9, 30)
    )
    ada = DelegateFactory(conference=conference, organisation=walton)

    api_client.patch(delegate_url(ada), {"conference": other.pk}, format="json")

    ada.refresh_from_db()
    assert ada.conference == conference


def test_deleting_through_the_api_is_not_allowed(api_client, conference, walton):
    ada = DelegateFactory(conference=conference, organisation=walton)

    assert api_client.delete(delegate_url(ada)).status_code == 405


def test_creating_a_delegate_without_any_conference_is_a_400(api_client, walton):
    response = api_client.post(DELEGATES, new_delegate(walton), format="json")

    assert response.status_code == 400
    assert "conference" in response.json()


# --- Organisations --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=walton", ["Liverpool Walton"]),
        ("q=E14001234", ["Liverpool Walton"]),
        ("section=affiliates", ["Unite the Union"]),
        ("kind=clp", ["Liverpool Walton"]),
        ("region=North+West", ["Liverpool Walton"]),
        ("ordering=-membership", ["Unite the Union", "Liverpool Walton"]),
    ],
)
def test_organisation_filters(api_client, walton, unite, query, expected):
    response = api_client.get(f"{ORGANISATIONS}?{query}")

    assert [o["name"] for o in response.json()["results"]] == expected


def test_creating_an_organisation_derives_section_and_nation(api_client, db):
    response = api_client.post(
        ORGANISATIONS, {"name": "Cardiff West", "kind": "clp", "region": "Wales", "membership": 900}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["section"] == "clp"
    assert response.json()["nation"] == "Wales"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": "liverpool walton", "kind": "clp", "region": "North West"}, "name", "already has this name"),
        ({"name": "New CLP", "kind": "clp", "region": "North West", "gss_code": "e14001234"}, "gss_code", "GSS"),
        ({"name": "New CLP", "kind": "clp"}, "region", "A CLP needs its region."),
        ({"name": "New Union", "kind": "trade_union", "gss_code": "E1"}, "gss_code", "Only CLPs"),
        ({"name": "X", "kind": "clp", "region": "North West", "membership": -1}, "membership", "greater than"),
        ({"name": "X", "kind": "guild"}, "kind", "not a valid choice"),
        (
            {"name": "X", "kind": "clp", "region": "North West", "membership": 10, "women_members": 11},
            "women_members",
            "more than the membership",
        ),
    ],
)
def test_bad_organisation_input_gets_a_400_on_the_field(api_client, walton, payload, field, message):
    response = api_client.post(ORGANISATIONS, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert message in response.json()[field][0]


def test_patching_an_organisation_keeps_its_rules(api_client, walton):
    url = reverse("api-organisation-detail", args=[walton.pk])

    assert api_client.patch(url, {"region": ""}, format="json").status_code == 400
    response = api_client.patch(url, {"region": "Scotland", "membership": 2000}, format="json")
    assert response.status_code == 200
    walton.refresh_from_db()
    assert (walton.region, walton.nation, walton.membership) == ("Scotland", "Scotland", 2000)


# --- Conferences ----------------------------------------------------------------------------------------


def test_conferences_are_read_only(api_client, conference):
    data = api_client.get(CONFERENCES).json()

    assert data["results"][0]["slug"] == conference.slug
    assert data["results"][0]["delegate_cap"] == 6
    assert api_client.post(CONFERENCES, {"name": "X"}, format="json").status_code == 405
