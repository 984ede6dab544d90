"""Coordinator pages: who may see them, what they show, and that their query counts stay flat."""

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegates import selectors, services
from delegates.models import Delegate, Organisation, Region, SmsConsent
from messaging import services as messaging_services
from messaging.models import OptOut
from tests.factories import ConferenceFactory, DelegateFactory, OrganisationFactory, SmsConsentFactory, UnionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(conference):
    """A small conference: two CLPs in different regions, a union, delegates with and without consent."""
    liverpool = OrganisationFactory(name="Liverpool Riverside", region=Region.NORTH_WEST, membership=1200)
    hackney = OrganisationFactory(name="Hackney North", region=Region.LONDON, membership=2000)
    unison = UnionFactory(name="UNISON", short_name="UNISON", membership=450_000)
    ann = DelegateFactory(conference=conference, organisation=liverpool, first_name="Ann", last_name="Quill")
    bob = DelegateFactory(
        conference=conference, organisation=liverpool, first_name="Bob", last_name="Ray", gender="man"
    )
    cat = DelegateFactory(conference=conference, organisation=hackney, first_name="Cat", last_name="Shaw")
    dev = DelegateFactory(conference=conference, organisation=unison, first_name="Dev", last_name="Tull")
    SmsConsentFactory(delegate=ann)
    SmsConsentFactory(delegate=cat)
    return {
        "liverpool": liverpool,
        "hackney": hackney,
        "unison": unison,
        "ann": ann,
        "bob": bob,
        "cat": cat,
        "dev": dev,
    }


def _urls(cast):
    return [
        reverse("dashboard"),
        reverse("organisation-list"),
        reverse("organisation-detail", args=[cast["liverpool"].pk]),
        reverse("organisation-create"),
        reverse("organisation-update", args=[cast["liverpool"].pk]),
        reverse("delegate-list"),
        reverse("delegate-export"),
        reverse("delegate-detail", args=[cast["ann"].pk]),
        reverse("delegate-create"),
        reverse("delegate-update", args=[cast["ann"].pk]),
    ]


def test_every_page_renders_for_a_coordinator(coordinator_client, cast):
    for url in _urls(cast):
        response = coordinator_client.get(url)
        assert response.status_code == 200, url


def test_anonymous_visitors_are_sent_to_log_in(client, cast):
    for url in _urls(cast):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url


def test_logged_in_non_coordinators_are_refused(outsider_client, cast):
    for url in _urls(cast):
        assert outsider_client.get(url).status_code == 403, url


def test_posting_a_form_as_an_outsider_saves_nothing(outsider_client, cast):
    response = outsider_client.post(
        reverse("organisation-create"), {"kind": "clp", "name": "Sneaky", "region": "London"}
    )
    assert response.status_code == 403
    assert not Organisation.objects.filter(name="Sneaky").exists()


def test_pages_say_so_when_there_is_no_conference_yet(coordinator_client):
    assert "No conference yet" in coordinator_client.get(reverse("dashboard")).content.decode()
    assert coordinator_client.get(reverse("delegate-list")).status_code == 200
    response = coordinator_client.get(reverse("delegate-create"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_the_header_offers_a_post_logout_form(coordinator_client, cast):
    html = coordinator_client.get(reverse("dashboard")).content.decode()
    assert f'method="post" action="{reverse("logout")}"' in html
    assert reverse("delegate-list") in html and reverse("api-docs") in html


# --- Dashboard ----------------------------------------------------------------------------------


def test_dashboard_shows_the_conference_and_its_totals(coordinator_client, cast, conference):
    Delegate.objects.filter(pk=cast["bob"].pk).update(is_attending=False)
    response = coordinator_client.get(reverse("dashboard"))
    html = response.content.decode()
    assert conference.name in html and conference.venue in html
    assert response.context["organisations"] == {"clps": 2, "affiliates": 1}
    assert response.context["delegates"]["total"] == 4
    assert response.context["delegates"]["attending"] == 3
    assert response.context["consented"] == 2


def test_dashboard_card_vote_by_region_counts_a_clp_once_however_many_attend(coordinator_client, cast):
    rows = {row["label"]: row for row in coordinator_client.get(reverse("dashboard")).context["region_rows"]}
    # Liverpool's two attending delegates share its 1,200 members; Hackney's one carries 2,000.
    assert rows[Region.NORTH_WEST]["delegates"] == 2
    assert rows[Region.NORTH_WEST]["votes"] == 1200
    assert rows[Region.LONDON]["votes"] == 2000
    # The CLP section is 50% of the conference vote: London has 2,000 of its 3,200 members.
    assert rows[Region.LONDON]["vote_share"] == 31.2
    sections = {row["label"]: row for row in coordinator_client.get(reverse("dashboard")).context["section_rows"]}
    assert sections["Affiliates"]["votes"] == 450_000


def test_the_cached_overview_follows_every_change_it_depends_on(coordinator_client, cast):
    """The overview is cached per watermark (config/caching.py): an unchanged request takes it from the cache,
    and a consent given or withdrawn, a STOP or START, an attendance or a membership change each refresh it."""
    url = reverse("dashboard")

    def overview():
        context = coordinator_client.get(url).context
        return context["consented"], context["delegates"]["attending"], context["section_rows"][0]["votes"]

    assert overview() == (2, 4, 3200)
    with mock.patch("delegates.selectors.conference_overview", wraps=selectors.conference_overview) as computed:
        assert overview() == (2, 4, 3200)
    assert computed.call_count == 0  # nothing changed: from the cache

    services.withdraw_sms_consent(delegate=cast["cat"], reason="asked by phone")
    assert overview()[0] == 1
    services.record_sms_consent(
        delegate=cast["bob"], method=SmsConsent.Method.WEB_FORM, wording="Texts about conference votes"
    )
    assert overview()[0] == 2
    messaging_services.opt_out(cast["ann"].mobile, source="sms", keyword="STOP")
    assert overview()[0] == 1
    messaging_services.opt_in(cast["ann"].mobile, source="sms", keyword="START")
    assert overview()[0] == 2

    cast["dev"].is_attending = False
    cast["dev"].save()
    assert overview()[1] == 3
    cast["hackney"].membership = 2500
    cast["hackney"].save()
    assert overview()[2] == 3700

    later = timezone.now() + dt.timedelta(minutes=1)
    with (
        mock.patch("config.caching.timezone.now", return_value=later),
        mock.patch("delegates.selectors.conference_overview", wraps=selectors.conference_overview) as computed,
    ):
        overview()
    assert computed.call_count == 1  # a new minute: computed again, as the whip panels are


# --- Organisations ------------------------------------------------------------------------------


def test_organisation_list_shows_entitlement_and_delegates_registered(coordinator_client, cast):
    response = coordinator_client.get(reverse("organisation-list"))
    rows = {org.name: org for org in response.context["organisations"]}
    assert rows["Hackney North"].entitlement == 6  # 2,000 members: the cap
    assert rows["Liverpool Riverside"].entitlement == 3  # 1,200 members: 1 + 2 bands of 250
    assert rows["Liverpool Riverside"].delegate_count == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("section=affiliates", {"UNISON"}),
        ("section=clp", {"Liverpool Riverside", "Hackney North"}),
        ("region=London", {"Hackney North"}),
        ("kind=trade_union", {"UNISON"}),
        ("q=liver", {"Liverpool Riverside"}),
    ],
)
def test_organisation_list_filters(coordinator_client, cast, query, expected):
    response = coordinator_client.get(reverse("organisation-list") + "?" + query)
    assert {org.name for org in response.context["organisations"]} == expected


def test_organisation_detail_shows_places_and_each_delegates_card_vote(coordinator_client, cast):
    response = coordinator_client.get(reverse("organisation-detail", args=[cast["liverpool"].pk]))
    assert response.context["entitlement"] == 3
    assert {d.full_name: d.card_vote for d in response.context["delegates"]} == {"Ann Quill": 600, "Bob Ray": 600}


# --- Delegates ----------------------------------------------------------------------------------


def _names(response):
    return {d.full_name for d in response.context["delegates"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"Ann Quill", "Bob Ray", "Cat Shaw", "Dev Tull"}),
        ("section=clp", {"Ann Quill", "Bob Ray", "Cat Shaw"}),
        ("section=affiliates", {"Dev Tull"}),
        ("region=London", {"Cat Shaw"}),
        ("q=quill", {"Ann Quill"}),
        ("q=liverpool", {"Ann Quill", "Bob Ray"}),
        ("has_sms_consent=true", {"Ann Quill", "Cat Shaw"}),
        ("has_sms_consent=false", {"Bob Ray", "Dev Tull"}),
        ("gender=man", {"Bob Ray"}),
        ("region=North+West&has_sms_consent=true", {"Ann Quill"}),
    ],
)
def test_delegate_list_filters(coordinator_client, cast, query, expected):
    assert _names(coordinator_client.get(reverse("delegate-list") + "?" + query)) == expected


def test_delegate_list_filters_by_organisation_and_names_it(coordinator_client, cast):
    response = coordinator_client.get(reverse("delegate-list"), {"organisation": cast["hackney"].pk})
    assert _names(response) == {"Cat Shaw"}
    assert "Hackney North" in [chip["value"] for chip in response.context["chips"]]


def test_delegate_list_shows_card_vote_and_consent(coordinator_client, cast):
    response = coordinator_client.get(reverse("delegate-list"), {"q": "Ann"})
    html = response.content.decode()
    assert "600" in html
    assert "✓ Consent" in html or 'class="badge badge-yes" title="Has given consent' in html


def test_nonsense_filter_values_show_the_list_not_an_error(coordinator_client, cast):
    response = coordinator_client.get(
        reverse("delegate-list"), {"region": "Atlantis", "organisation": "abc", "is_attending": "maybe", "page": "x"}
    )
    assert response.status_code == 200


def test_filters_survive_pagination(coordinator_client, conference):
    london = OrganisationFactory(region=Region.LONDON)
    DelegateFactory.create_batch(55, conference=conference, organisation=london, mobile="")
    DelegateFactory(conference=conference, organisation=OrganisationFactory(region=Region.WALES), mobile="")
    first = coordinator_client.get(reverse("delegate-list"), {"region": "London"})
    assert len(first.context["delegates"]) == 50
    assert 'href="?region=London&amp;page=2"' in first.content.decode()
    second = coordinator_client.get(reverse("delegate-list"), {"region": "London", "page": 2})
    assert len(second.context["delegates"]) == 5
    assert second.context["query"] == "region=London"


def test_a_page_past_the_end_shows_the_last_page(coordinator_client, cast):
    response = coordinator_client.get(reverse("delegate-list"), {"page": 99})
    assert response.status_code == 200
    assert len(response.context["delegates"]) == 4


def test_download_link_carries_the_filters_but_not_the_page(coordinator_client, cast):
    response = coordinator_client.get(reverse("delegate-list"), {"region": "London", "page": 1})
    assert f'href="{reverse("delegate-export")}?region=London"' in response.content.decode()


def test_delegate_detail_shows_consent_history(coordinator_client, cast):
    ann = cast["ann"]
    SmsConsent.objects.filter(delegate=ann).update(withdrawn_at="2027-09-01T10:00Z", withdrawal_reason="Asked to stop")
    SmsConsentFactory(delegate=ann, method=SmsConsent.Method.PAPER_FORM, wording="Paper form wording v2")
    html = coordinator_client.get(reverse("delegate-detail", args=[ann.pk])).content.decode()
    assert "Asked to stop" in html
    assert "Paper form wording v2" in html
    assert "Given (current)" in html and "Given, later withdrawn" in html


def test_delegate_detail_warns_when_the_number_has_opted_out(coordinator_client, cast):
    url = reverse("delegate-detail", args=[cast["ann"].pk])
    assert "has opted out" not in coordinator_client.get(url).content.decode()
    OptOut.objects.create(number=cast["ann"].mobile, opted_out=True)
    assert "has opted out (texted STOP)" in coordinator_client.get(url).content.decode()


# --- CSV export ---------------------------------------------------------------------------------


def _csv(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_csv_export_has_the_agreed_columns(coordinator_client, cast):
    response = coordinator_client.get(reverse("delegate-export"), {"q": "quill"})
    rows = _csv(response)
    assert list(rows[0].keys()) == [
        "first_name",
        "last_name",
        "organisation",
        "gender",
        "seat_type",
        "is_attending",
        "mobile",
        "email",
        "card_vote",
        "sms_consent",
    ]
    assert rows[0]["organisation"] == "Liverpool Riverside"
    assert rows[0]["mobile"] == "'" + cast["ann"].mobile  # "+" starts a formula: neutralised, and imported back
    assert rows[0]["card_vote"] == "600"
    assert rows[0]["sms_consent"] == "yes"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"region": "North West"}, {"Ann", "Bob"}),
        ({"has_sms_consent": "true"}, {"Ann", "Cat"}),
        ({"section": "affiliates"}, {"Dev"}),
        ({"q": "shaw"}, {"Cat"}),
        ({}, {"Ann", "Bob", "Cat", "Dev"}),
    ],
)
def test_csv_export_honours_the_filters(coordinator_client, cast, query, expected):
    rows = _csv(coordinator_client.get(reverse("delegate-export"), query))
    assert {row["first_name"] for row in rows} == expected


def test_csv_export_file_name_names_the_conference_not_people(coordinator_client, cast, conference):
    response = coordinator_client.get(reverse("delegate-export"), {"q": "quill"})
    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="delegates-{conference.slug}-')
    assert "quill" not in disposition.lower()


def test_csv_export_defuses_spreadsheet_formulas(coordinator_client, conference):
    DelegateFactory(conference=conference, first_name="=HYPERLINK(1)", last_name="@evil")
    row = _csv(coordinator_client.get(reverse("delegate-export")))[0]
    assert row["first_name"] == "'=HYPERLINK(1)"
    assert row["last_name"] == "'@evil"
    assert row["mobile"].startswith("'+447")


def test_csv_export_opens_in_excel_with_accents_intact(coordinator_client, conference):
    DelegateFactory(conference=conference, first_name="Siân", last_name="Llŷr")
    body = b"".join(coordinator_client.get(reverse("delegate-export")).streaming_content)
    assert body.startswith("\ufeff".encode())
    assert "Siân,Llŷr".encode() in body


def test_csv_export_leaves_out_other_conferences(coordinator_client, cast):
    other = ConferenceFactory(slug="lab26", name="Labour Party Conference 2026", is_current=False)
    DelegateFactory(conference=other, first_name="Old")
    assert "Old" not in {row["first_name"] for row in _csv(coordinator_client.get(reverse("delegate-export")))}


# --- Query counts -------------------------------------------------------------------------------


def _build_conference(conference, delegates: int):
    """`delegates` delegates over 20 CLPs in every region and 2 unions; every third has consented."""
    regions = list(Region.values)
    organisations = [
        OrganisationFactory(region=regions[i % len(regions)], membership=500 + 100 * i) for i in range(20)
    ] + [UnionFactory(), UnionFactory()]
    Delegate.objects.bulk_create(
        Delegate(
            conference=conference,
            organisation=organisations[i % len(organisations)],
            first_name=f"First{i}",
            last_name=f"Last{i:04d}",
            is_attending=i % 7 != 0,
            mobile=f"+447700900{i:03d}" if i < 1000 else "",
        )
        for i in range(delegates)
    )
    SmsConsent.objects.bulk_create(
        SmsConsent(delegate=d, method=SmsConsent.Method.WEB_FORM, wording="Yes to texts")
        for d in Delegate.objects.filter(conference=conference)[::3]
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url_name", ["dashboard", "organisation-list", "delegate-list"])
def test_query_count_does_not_grow_from_10_to_1000_delegates(coordinator_client, conference, url_name):
    url = reverse(url_name)
    _build_conference(conference, 10)
    small = _queries(coordinator_client, url)
    Delegate.objects.all().delete()
    _build_conference(conference, 1000)
    assert _queries(coordinator_client, url) == small


def test_dashboard_query_count(coordinator_client, conference, django_assert_max_num_queries):
    _build_conference(conference, 1000)
    # session, user, coordinators group, current conference, organisations by section, delegate totals,
    # live consents, card vote by section, attending delegates by region, card vote by region, stuck outbox,
    # delegations over entitlement, volunteer shifts short of their minimum, the whip watermark, lobbying's
    # tracked motions (none here; with motions the whip adds four: see tests/lobbying/test_query_counts.py),
    # replies waiting as proposed stances
    with django_assert_max_num_queries(16):
        coordinator_client.get(reverse("dashboard"))


def test_organisation_list_query_count(coordinator_client, conference, django_assert_max_num_queries):
    _build_conference(conference, 1000)
    # session, user, coordinators group, current conference, count for the paginator, the page of
    # organisations with their delegate counts
    with django_assert_max_num_queries(6):
        coordinator_client.get(reverse("organisation-list"), {"section": "clp", "q": "Constituency"})


def test_delegate_list_query_count(coordinator_client, conference, django_assert_max_num_queries):
    _build_conference(conference, 1000)
    organisation = Organisation.objects.filter(kind="clp").first()
    # session, user, coordinators group, current conference, the organisation filter's lookup,
    # count for the paginator, the page of delegates (organisation, card vote and consent in one query)
    with django_assert_max_num_queries(7):
        response = coordinator_client.get(
            reverse("delegate-list"), {"organisation": organisation.pk, "is_attending": "true"}
        )
    assert response.context["delegates"]


def test_delegate_list_with_1000_delegates_pages_by_50(coordinator_client, conference, django_assert_max_num_queries):
    _build_conference(conference, 1000)
    # session, user, coordinators group, current conference, count for the paginator, the page
    with django_assert_max_num_queries(6):
        response = coordinator_client.get(reverse("delegate-list"), {"page": 20})
    assert response.context["page_obj"].paginator.count == 1000
    assert len(response.context["delegates"]) == 50
