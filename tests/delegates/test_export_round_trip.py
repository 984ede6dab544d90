"""The CSV a coordinator downloads can be edited and imported again."""

import csv
import io

import pytest
from django.urls import reverse

from config.csv_export import FORMULA_STARTS, SafeCSV
from delegates.imports import import_delegates
from delegates.models import Delegate
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory

pytestmark = pytest.mark.django_db


def _export(client) -> bytes:
    response = client.get(reverse("delegate-export"))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_importing_an_unchanged_export_changes_nothing(coordinator_client, conference):
    clp = OrganisationFactory(name="Wirral West", membership=1200)
    DelegateFactory.create_batch(3, conference=conference, organisation=clp)
    SmsConsentFactory(delegate=DelegateFactory(conference=conference, organisation=clp, is_attending=False))
    DelegateFactory(conference=conference, organisation=clp, mobile="", first_name="Noor", last_name="Mobile")

    report = import_delegates(data=_export(coordinator_client), conference=conference)

    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (0, 0, 5)


def test_an_edited_export_updates_the_delegate_it_names(coordinator_client, conference):
    delegate = DelegateFactory(conference=conference, first_name="Ada", last_name="Smith", email="old@example.org")
    exported = _export(coordinator_client).decode("utf-8-sig")

    report = import_delegates(
        data=exported.replace("old@example.org", "new@example.org").encode(), conference=conference
    )

    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (0, 1, 0)
    assert Delegate.objects.get(pk=delegate.pk).email == "new@example.org"


# --- Safe to open in a spreadsheet, and still round-trips ------------------------------------------------

FORMULA_NAMES = [('=HYPERLINK("http://x")', "-Smith"), ("@SUM(A1)", "+Plus")]
# Names are stored stripped, so a leading tab or CR only reaches an export from outside the forms; it is
# neutralised like the rest but, being whitespace, does not come back from an import.
WHITESPACE_NAMES = [("\tTab", "\rReturn")]


def _formula_delegates(conference, *, whitespace=False):
    clp = OrganisationFactory(name="=Evil CLP", membership=1200)
    for first, last in FORMULA_NAMES + (WHITESPACE_NAMES if whitespace else []):
        DelegateFactory(conference=conference, organisation=clp, first_name=first, last_name=last, email="")
    DelegateFactory(conference=conference, organisation=clp, first_name="No", last_name="Mobile", mobile="")
    return clp


def test_the_list_export_neutralises_every_formula_like_cell_and_starts_with_a_bom(coordinator_client, conference):
    _formula_delegates(conference, whitespace=True)

    data = _export(coordinator_client)

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_STARTS), (column, cell)
    assert {row["first_name"] for row in rows} >= {'\'=HYPERLINK("http://x")', "'@SUM(A1)", "'\tTab"}
    assert {row["mobile"][:5] for row in rows if row["mobile"]} == {"'+447"}
    assert {row["organisation"] for row in rows} == {"'=Evil CLP"}


def test_a_neutralised_export_imports_back_unchanged_even_without_mobiles(coordinator_client, conference):
    _formula_delegates(conference)
    before = list(Delegate.objects.order_by("pk").values())

    report = import_delegates(data=_export(coordinator_client), conference=conference)

    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (0, 0, 3)
    assert list(Delegate.objects.order_by("pk").values()) == before  # names, "+447…" mobiles and all


def _admin_export(client, model: str, resource: str, columns: list[str]) -> bytes:
    response = client.post(
        reverse(f"admin:delegates_{model}_export"),
        {"format": "0", "resource": "0"} | {f"{resource}_{c}": "on" for c in columns},
    )
    assert response.status_code == 200
    return response.content


def test_the_admin_export_is_neutralised_with_a_bom_and_imports_back_unchanged(coordinator_client, conference):
    _formula_delegates(conference)
    columns = ["first_name", "last_name", "organisation", "gender", "seat_type", "mobile", "email", "is_attending"]

    data = _admin_export(coordinator_client, "delegate", "delegateresource", columns)

    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'-Smith" in text and "'+447" in text
    report = import_delegates(data=data, conference=conference)
    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (0, 0, 3)


def test_the_admin_organisation_export_is_neutralised_and_imports_back_unchanged(coordinator_client, conference):
    from delegates.imports import import_organisations

    _formula_delegates(conference)
    columns = ["name", "kind", "region", "membership", "women_members", "young_members", "gss_code"]

    data = _admin_export(coordinator_client, "organisation", "organisationresource", columns)

    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=Evil CLP" in data.decode("utf-8-sig")
    report = import_organisations(data=data)
    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (0, 0, 1)


def test_every_admin_with_export_buttons_exports_safe_csv_only():
    from django.contrib import admin
    from import_export.mixins import BaseExportMixin

    exporting = [a for a in admin.site._registry.values() if isinstance(a, BaseExportMixin)]

    assert exporting  # the check below must look at something
    for model_admin in exporting:
        assert model_admin.get_export_formats() == [SafeCSV], type(model_admin).__name__
        assert model_admin.to_encoding == "utf-8-sig", type(model_admin).__name__
