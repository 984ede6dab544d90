""" "Can be texted" is one definition (live consent and not opted out), shown the same on every page,
in the export, the filters, the dashboard and the API. An opted-out delegate never reads "✓ Consent"."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delegates.models import Delegate, SmsConsent
from messaging import services as messaging
from messaging.models import OptOutEvent
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory

pytestmark = pytest.mark.django_db
# The green badge the stylesheet prefixes with "✓ ".
CONSENT_BADGE = ">Consent</span>"


@pytest.fixture
def trio(conference):
    """Three delegates of one CLP: one textable, one who consented then texted STOP, one never asked."""
    walton = OrganisationFactory(name="Liverpool Walton", membership=1500)
    yes = DelegateFactory(conference=conference, organisation=walton, first_name="Yara", last_name="Yes")
    stopped = DelegateFactory(conference=conference, organisation=walton, first_name="Stan", last_name="Stopped")
    never = DelegateFactory(conference=conference, organisation=walton, first_name="Nia", last_name="Never")
    SmsConsentFactory(delegate=yes)
    SmsConsentFactory(delegate=stopped)
    messaging.opt_out(stopped.mobile, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    return {"walton": walton, "yes": yes, "stopped": stopped, "never": never}


def _row_html(html: str, name: str) -> str:
    """The table row (or header block) that holds a delegate's name."""
    start = html.index(name)
    row_start = html.rfind("<tr", 0, start)
    return html[row_start : html.index("</tr>", start)]


def test_textable_is_consent_and_not_opted_out_and_a_mobile(trio, conference):
    no_mobile = DelegateFactory(conference=conference, mobile="", first_name="Mo")
    SmsConsent.objects.create(delegate=no_mobile, method="paper_form", wording="Texts")
    names = set(Delegate.objects.textable().values_list("first_name", flat=True))
    assert names == {"Yara"}
    row = Delegate.objects.with_can_be_texted().get(pk=trio["stopped"].pk)
    assert (row.has_sms_consent, row.is_opted_out, row.can_be_texted) == (True, True, False)


def test_a_re_imported_erased_person_whose_opt_out_survives_only_as_a_hash_is_not_textable(
    trio, conference, django_assert_num_queries
):
    """Erasure blanks the number on the opt-out row and keeps the keyed hash; the same person imported again
    (same mobile, even with a fresh consent) must not be counted in an audience or shown as textable. The import
    puts the number back on the opt-out row (re-link), so textable() matches it by number, with no hash in SQL."""
    from delegates.imports import import_delegates
    from messaging.models import OptOut
    from messaging.privacy import number_hash

    with django_assert_num_queries(1):
        before = Delegate.objects.textable().count()
    gone = DelegateFactory(conference=conference, organisation=trio["walton"], first_name="Eve", mobile="+447700900777")
    SmsConsentFactory(delegate=gone)
    messaging.opt_out(gone.mobile, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    gone.delete()  # erased: the delegate goes, and the opt-out list keeps only the hash
    messaging.forget_opt_out_number(number="+447700900777")
    assert OptOut.objects.filter(number="", number_hash=number_hash("+447700900777"), opted_out=True).exists()

    report = import_delegates(
        data=b"first_name,last_name,organisation,mobile,sms_consent_method,sms_consent_wording\n"
        b"Eve,Back,Liverpool Walton,07700 900777,paper_form,I agree to texts about conference votes.\n",
        conference=conference,
    )
    assert report.ok and report.new == 1, report.lines()
    back = Delegate.objects.get(first_name="Eve")
    assert SmsConsent.objects.filter(delegate=back, withdrawn_at__isnull=True).exists()
    assert OptOut.objects.get(number_hash=number_hash("+447700900777")).number == "+447700900777"

    with django_assert_num_queries(1):  # the same one query, matching by number
        assert Delegate.objects.textable().count() == before
    assert not Delegate.objects.textable().filter(pk=back.pk).exists()
    assert Delegate.objects.not_textable().filter(pk=back.pk).exists()
    row = Delegate.objects.with_can_be_texted().get(pk=back.pk)
    assert (row.has_sms_consent, row.is_opted_out, row.can_be_texted) == (True, True, False)
    # START from the number finds the re-linked row and makes them textable again.
    messaging.opt_in("+447700900777", source=OptOutEvent.Source.SMS_KEYWORD, keyword="START")
    assert Delegate.objects.textable().filter(pk=back.pk).exists()


def test_texting_start_again_makes_a_consenting_delegate_textable(trio):
    messaging.opt_in(trio["stopped"].mobile, source=OptOutEvent.Source.SMS_KEYWORD, keyword="START")
    assert Delegate.objects.textable().filter(pk=trio["stopped"].pk).exists()


def test_the_delegate_list_shows_opted_out_never_consent(coordinator_client, trio):
    html = coordinator_client.get(reverse("delegate-list")).content.decode()
    stopped = _row_html(html, "Stan Stopped")
    assert "Opted out" in stopped and CONSENT_BADGE not in stopped
    assert CONSENT_BADGE in _row_html(html, "Yara Yes")
    assert "No consent" in _row_html(html, "Nia Never")


def test_the_organisation_page_shows_opted_out_never_consent(coordinator_client, trio):
    html = coordinator_client.get(reverse("organisation-detail", args=[trio["walton"].pk])).content.decode()
    stopped = _row_html(html, "Stan Stopped")
    assert "Opted out" in stopped and CONSENT_BADGE not in stopped


def test_the_delegate_page_of_an_opted_out_delegate_says_so_and_shows_no_consent_badge(coordinator_client, trio):
    html = coordinator_client.get(reverse("delegate-detail", args=[trio["stopped"].pk])).content.decode()
    assert CONSENT_BADGE not in html and "consent-yes" not in html
    assert "Opted out" in html and "opt-out wins" in html


def test_the_dashboard_counts_only_delegates_who_can_be_texted(coordinator_client, trio):
    response = coordinator_client.get(reverse("dashboard"))
    assert response.context["consented"] == 1
    assert "?can_be_texted=true" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("can_be_texted=true", {"Yara"}),
        ("can_be_texted=false", {"Stan", "Nia"}),
        ("has_sms_consent=true", {"Yara"}),  # old links answer the same question
    ],
)
def test_the_filter_uses_the_one_definition(coordinator_client, trio, query, expected):
    response = coordinator_client.get(reverse("delegate-list") + "?" + query)
    assert {d.first_name for d in response.context["delegates"]} == expected


def test_the_export_says_opted_out_not_yes(coordinator_client, trio):
    body = b"".join(coordinator_client.get(reverse("delegate-export")).streaming_content).decode("utf-8-sig")
    rows = {row["first_name"]: row["sms_consent"] for row in csv.DictReader(io.StringIO(body))}
    assert rows == {"Yara": "yes", "Stan": "opted out", "Nia": "no"}


def test_the_api_says_an_opted_out_delegate_cannot_be_texted(api_client, trio):
    data = api_client.get(f"/api/delegates/{trio['stopped'].pk}/").json()
    assert (data["has_sms_consent"], data["is_opted_out"], data["can_be_texted"]) == (True, True, False)
    listed = api_client.get("/api/delegates/?can_be_texted=true").json()["results"]
    assert [d["first_name"] for d in listed] == ["Yara"]


def _build(conference, n):
    walton = OrganisationFactory()
    Delegate.objects.bulk_create(
        Delegate(
            conference=conference,
            organisation=walton,
            first_name=f"F{i}",
            last_name=f"L{i:04d}",
            mobile=f"+447700{i:06d}",
        )
        for i in range(n)
    )
    delegates = list(Delegate.objects.filter(conference=conference))
    SmsConsent.objects.bulk_create(SmsConsent(delegate=d, method="web_form", wording="Texts") for d in delegates)
    for d in delegates[::2]:
        messaging.opt_out(d.mobile, source=OptOutEvent.Source.COORDINATOR)
    return walton


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url", ["/", "/delegates/?can_be_texted=false", "/delegates/export.csv", "/api/delegates/?can_be_texted=true"]
)
def test_query_counts_stay_flat_with_opted_out_delegates(coordinator_client, conference, url):
    _build(conference, 6)
    small = _count(coordinator_client, url)
    Delegate.objects.all().delete()
    _build(conference, 120)
    assert _count(coordinator_client, url) == small
