"""A delegation with more delegates than its places is flagged on the organisation's page and list, on each
delegate's card vote and on the dashboard; the SQL places agree with the conference's rules in Python."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delegates.models import Delegate, Organisation
from tests.factories import DelegateFactory, OrganisationFactory, UnionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def twenty(conference):
    """A 1,000-member CLP (3 places) whose spreadsheet was imported ten times over: 20 delegates."""
    clp = OrganisationFactory(name="Wirral West", membership=1000)
    for i in range(20):
        DelegateFactory(conference=conference, organisation=clp, first_name=f"Sub{i}", last_name="Stitute")
    return clp


@pytest.fixture
def within(conference):
    clp = OrganisationFactory(name="Wirral South", membership=1000)
    DelegateFactory.create_batch(2, conference=conference, organisation=clp)
    union = UnionFactory(name="Big Union")
    DelegateFactory.create_batch(30, conference=conference, organisation=union)  # affiliates: their own rules
    return clp


@pytest.mark.parametrize(
    ("membership", "women", "young"),
    [(0, 0, 0), (1, 0, 0), (749, 0, 0), (750, 0, 0), (999, 100, 0), (1000, 0, 30), (1749, 99, 29), (5000, 500, 90)],
)
def test_places_in_sql_match_the_conference_rules_in_python(conference, membership, women, young):
    clp = OrganisationFactory(membership=membership, women_members=women, young_members=young)
    annotated = Organisation.objects.with_delegate_places(conference).get(pk=clp.pk)
    assert annotated.delegate_places == conference.delegate_places(clp)


def test_a_twenty_delegate_delegation_is_flagged_in_the_organisation_list(coordinator_client, twenty, within):
    response = coordinator_client.get(reverse("organisation-list"))
    rows = {o.name: o for o in response.context["organisations"]}
    assert rows["Wirral West"].over_entitlement is True
    assert rows["Wirral South"].over_entitlement is False
    assert rows["Big Union"].over_entitlement is False
    assert "Over: 20 for 3" in response.content.decode()

    flagged = coordinator_client.get(reverse("organisation-list"), {"over_entitlement": "true"})
    assert [o.name for o in flagged.context["organisations"]] == ["Wirral West"]


def test_a_twenty_delegate_delegation_is_flagged_on_its_page_with_the_diluted_card_vote(coordinator_client, twenty):
    response = coordinator_client.get(reverse("organisation-detail", args=[twenty.pk]))
    html = response.content.decode()
    assert response.context["over_entitlement"] is True
    assert "Over entitlement: 20 delegates registered for 3 places" in html
    assert 'id="over-entitlement"' in html


def test_each_delegate_of_an_over_entitled_delegation_sees_the_warning_by_their_card_vote(coordinator_client, twenty):
    delegate = Delegate.objects.filter(organisation=twenty).first()
    html = coordinator_client.get(reverse("delegate-detail", args=[delegate.pk])).content.decode()
    assert "this share is diluted" in html


def test_a_delegation_within_its_places_shows_no_warning(coordinator_client, within):
    html = coordinator_client.get(reverse("organisation-detail", args=[within.pk])).content.decode()
    assert "Over entitlement" not in html
    delegate = Delegate.objects.filter(organisation=within).first()
    assert "diluted" not in coordinator_client.get(reverse("delegate-detail", args=[delegate.pk])).content.decode()


def test_the_dashboard_warns_of_delegations_over_entitlement_and_links_to_them(coordinator_client, twenty, within):
    response = coordinator_client.get(reverse("dashboard"))
    alerts = response.context["alerts"]
    assert [a["text"].split(":")[0] for a in alerts] == ["1 delegation over entitlement"]
    assert alerts[0]["url"] == "/organisations/?over_entitlement=true"


def test_the_dashboard_has_no_entitlement_warning_when_all_is_well(coordinator_client, within):
    assert coordinator_client.get(reverse("dashboard")).context["alerts"] == []


def test_the_api_filters_organisations_over_entitlement(api_client, twenty, within):
    data = api_client.get("/api/organisations/?over_entitlement=true").json()
    assert [o["name"] for o in data["results"]] == ["Wirral West"]


def test_delegate_places_figure_and_caption_agree(coordinator_client, conference):
    clp = OrganisationFactory(membership=2000, women_members=150, young_members=40)
    response = coordinator_client.get(reverse("organisation-detail", args=[clp.pk]))
    assert response.context["places"] == 8
    html = response.content.decode()
    assert '<span class="tile-value">8</span>' in html
    assert "6 by membership + 1 additional woman + 1 youth" in html


def _build(conference, delegations):
    for _ in range(delegations):
        clp = OrganisationFactory(membership=800)
        Delegate.objects.bulk_create(
            Delegate(conference=conference, organisation=clp, first_name="A", last_name=f"B{i}", mobile="")
            for i in range(5)
        )


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/", "/organisations/", "/organisations/?over_entitlement=true"])
def test_query_counts_stay_flat_with_more_over_entitled_delegations(coordinator_client, conference, url):
    _build(conference, 2)
    small = _count(coordinator_client, url)
    _build(conference, 40)
    assert _count(coordinator_client, url) == small


def test_the_by_section_card_vote_bars_are_drawn_to_the_normalised_share_they_label(coordinator_client, conference):
    clp = OrganisationFactory(membership=900)
    union = UnionFactory(membership=450_000)
    DelegateFactory(conference=conference, organisation=clp)
    DelegateFactory(conference=conference, organisation=union)
    rows = {row["label"]: row for row in coordinator_client.get(reverse("dashboard")).context["section_rows"]}
    # 900 members against 450,000, but each section is half the card vote: both bars are half-length.
    assert [(r["vote_share"], r["votes_width"]) for r in rows.values()] == [(50, 50), (50, 50)]


def test_the_delegate_list_and_the_api_mark_each_diluted_card_vote(coordinator_client, api_client, twenty, within):
    response = coordinator_client.get(reverse("delegate-list"))
    flags = {d.organisation.name: d.delegation_over_entitlement for d in response.context["delegates"]}
    assert flags["Wirral West"] is True and flags["Wirral South"] is False and flags["Big Union"] is False
    assert "this share is diluted" in response.content.decode()
    results = api_client.get("/api/delegates/?page_size=100").json()["results"]
    assert {d["organisation_name"] for d in results if d["delegation_over_entitlement"]} == {"Wirral West"}


@pytest.mark.parametrize(
    ("membership", "women", "young"),
    [(0, 0, 0), (749, 0, 0), (750, 100, 0), (1000, 0, 30), (5000, 500, 90)],
)
def test_delegation_places_per_delegate_match_the_conference_rules(conference, membership, women, young):
    clp = OrganisationFactory(membership=membership, women_members=women, young_members=young)
    delegate = DelegateFactory(conference=conference, organisation=clp)
    annotated = Delegate.objects.for_list().get(pk=delegate.pk)
    assert annotated.delegation_places == conference.delegate_places(clp)
    assert annotated.delegation_size == 1
