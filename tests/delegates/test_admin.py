"""The admin: coordinators only, changelists with flat query counts, CSV import through the same rules."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from delegates.models import Delegate, Organisation, SmsConsent
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def walton(db):
    return OrganisationFactory(name="Liverpool Walton", gss_code="E14001234", membership=1500)


CHANGELISTS = [
    "admin:delegates_conference_changelist",
    "admin:delegates_organisation_changelist",
    "admin:delegates_delegate_changelist",
    "admin:delegates_smsconsent_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_coordinators_see_every_changelist(coordinator_client, conference, walton, name):
    SmsConsentFactory(delegate=DelegateFactory(conference=conference, organisation=walton))

    assert coordinator_client.get(reverse(name)).status_code == 200


def test_staff_who_are_not_coordinators_are_refused(client, db):
    client.force_login(UserFactory(username="staffer", is_staff=True))

    response = client.get(reverse("admin:delegates_delegate_changelist"))

    assert response.status_code == 403


@pytest.mark.parametrize("n", [10, 60])
def test_delegate_changelist_query_count_does_not_grow(
    coordinator_client, conference, django_assert_max_num_queries, n
):
    organisations = [OrganisationFactory() for _ in range(3)]
    for i in range(n):
        delegate = DelegateFactory(conference=conference, organisation=organisations[i % 3])
        if i % 2:
            SmsConsentFactory(delegate=delegate)
    # session, user, coordinator check, permissions (user's, group's), conference filter choices,
    # filtered COUNT, total COUNT, one page of delegates with organisation, conference and consent joined in.
    with django_assert_max_num_queries(9):
        response = coordinator_client.get(reverse("admin:delegates_delegate_changelist") + "?consent=yes")

    assert response.status_code == 200
    assert response.context["cl"].result_count == n // 2


@pytest.mark.parametrize("n", [10, 60])
def test_organisation_changelist_query_count_does_not_grow(
    coordinator_client, conference, django_assert_max_num_queries, n
):
    for _ in range(n):
        DelegateFactory(conference=conference, organisation=OrganisationFactory())
    # session, user, coordinator check, permissions (user's, group's), current conference, COUNT,
    # total COUNT, one page of organisations with their delegate count.
    with django_assert_max_num_queries(9):
        response = coordinator_client.get(reverse("admin:delegates_organisation_changelist"))

    assert response.status_code == 200
    assert b">1</td>" in response.content  # the delegate count column


@pytest.mark.parametrize("n", [10, 60])
def test_consent_changelist_query_count_does_not_grow(coordinator_client, conference, django_assert_max_num_queries, n):
    walton = OrganisationFactory()
    for _ in range(n):
        SmsConsentFactory(delegate=DelegateFactory(conference=conference, organisation=walton))
    # session, user, coordinator check, permissions (user's, group's), conference filter choices,
    # COUNT, total COUNT, one page of consents with delegate and recorder joined in.
    with django_assert_max_num_queries(9):
        response = coordinator_client.get(reverse("admin:delegates_smsconsent_changelist"))

    assert response.status_code == 200


def test_delegate_search_finds_a_mobile_typed_the_usual_way(coordinator_client, conference, walton):
    DelegateFactory(conference=conference, organisation=walton, first_name="Ada", mobile="+447700900001")
    DelegateFactory(conference=conference, organisation=walton, first_name="Bob", mobile="+447700900002")

    response = coordinator_client.get(reverse("admin:delegates_delegate_changelist") + "?q=07700+900001")

    assert [d.first_name for d in response.context["cl"].result_list] == ["Ada"]


def delegate_form(conference, organisation, **overrides):
    data = {
        "conference": conference.pk,
        "organisation": organisation.pk,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "gender": "woman",
        "seat_type": "ordinary",
        "is_attending": "on",
        "mobile": "07700 900123",
        "email": "",
        "notes": "",
        "sms_consents-TOTAL_FORMS": "0",
        "sms_consents-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_the_add_delegate_form_starts_on_the_current_conference(coordinator_client, conference):
    response = coordinator_client.get(reverse("admin:delegates_delegate_add"))

    assert response.context["adminform"].form.initial["conference"] == conference.pk


def test_adding_a_delegate_in_the_admin_normalises_the_mobile(coordinator_client, conference, walton):
    response = coordinator_client.post(reverse("admin:delegates_delegate_add"), delegate_form(conference, walton))

    assert response.status_code == 302
    assert Delegate.objects.get().mobile == "+447700900123"


@pytest.mark.parametrize(
    ("mobile", "message"),
    [("0161 496 0000", "is not a mobile number"), ("07700 900001", "already has this mobile")],
)
def test_bad_or_duplicate_mobiles_are_form_errors_in_the_admin(coordinator_client, conference, walton, mobile, message):
    DelegateFactory(conference=conference, organisation=walton, mobile="+447700900001")

    response = coordinator_client.post(
        reverse("admin:delegates_delegate_add"), delegate_form(conference, walton, mobile=mobile)
    )

    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors["mobile"])


def test_consent_cannot_be_added_in_the_admin_it_goes_through_the_consent_service(
    coordinator_client, conference, walton
):
    delegate = DelegateFactory(conference=conference, organisation=walton)
    SmsConsentFactory(delegate=delegate)

    response = coordinator_client.post(
        reverse("admin:delegates_smsconsent_add"),
        {
            "delegate": delegate.pk,
            "method": "web_form",
            "wording": "Yes please",
            "given_at_0": "2027-09-01",
            "given_at_1": "10:00:00",
        },
    )

    assert response.status_code == 403
    assert SmsConsent.objects.count() == 1


def test_an_organisation_name_differing_only_in_case_is_a_form_error(coordinator_client, walton):
    response = coordinator_client.post(
        reverse("admin:delegates_organisation_add"),
        {"kind": "clp", "name": "LIVERPOOL WALTON", "region": "North West", "membership": "1", "women_members": "0"}
        | {"young_members": "0"},
    )

    assert response.status_code == 200
    assert "Another organisation already has this name." in response.content.decode()


def admin_import(client, model, data: bytes):
    return client.post(
        reverse(f"admin:delegates_{model}_import"),
        {"import_file": SimpleUploadedFile("file.csv", data, "text/csv"), "format": "0", "resource": "0"},
    )


def test_admin_import_previews_then_imports_delegates(coordinator_client, conference, walton):
    OrganisationFactory(name="Unite the Union", kind="trade_union", region="")

    preview = admin_import(coordinator_client, "delegate", (FIXTURES / "delegates_good.csv").read_bytes())

    assert preview.status_code == 200
    assert "confirm_form" in preview.context
    assert Delegate.objects.count() == 0
    confirm = preview.context["confirm_form"].initial
    done = coordinator_client.post(reverse("admin:delegates_delegate_process_import"), confirm)
    assert done.status_code == 302
    assert Delegate.objects.filter(conference=conference).count() == 4
    assert SmsConsent.objects.get().recorded_by.username == "cora"


def test_admin_import_lists_bad_rows_and_offers_no_confirm(coordinator_client, conference, walton):
    response = admin_import(coordinator_client, "delegate", (FIXTURES / "delegates_bad.csv").read_bytes())

    page = response.content.decode()
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert "No organisation called “Atlantis CLP”" in page
    assert "The same mobile is on line 2" in page
    assert Delegate.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        ((FIXTURES / "delegates_latin1.csv").read_bytes(), "not UTF-8 text"),
        ((FIXTURES / "delegates_wrong_columns.csv").read_bytes(), "No column for First name and Organisation"),
    ],
)
def test_admin_import_refuses_bad_files_with_a_clear_message(coordinator_client, conference, data, message):
    response = admin_import(coordinator_client, "delegate", data)

    assert response.status_code == 200
    assert message in str(response.context["form"].errors["import_file"])


def test_admin_import_of_organisations(coordinator_client, db):
    preview = admin_import(coordinator_client, "organisation", (FIXTURES / "organisations_good.csv").read_bytes())

    coordinator_client.post(
        reverse("admin:delegates_organisation_process_import"), preview.context["confirm_form"].initial
    )

    assert Organisation.objects.count() == 3


def test_admin_export_of_delegates_is_csv_with_the_import_columns(coordinator_client, conference, walton):
    SmsConsentFactory(delegate=DelegateFactory(conference=conference, organisation=walton, first_name="Ada"))

    response = coordinator_client.post(
        reverse("admin:delegates_delegate_export"),
        {"format": "0", "resource": "0"}
        | {f"delegateresource_{c}": "on" for c in ["first_name", "organisation", "mobile", "sms_consent_wording"]},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.splitlines()[0].startswith("\ufefffirst_name,")  # a byte-order mark, for Excel
    assert "Ada,Liverpool Walton,'+447700900" in body  # neutralised: "+" would start a formula
