"""The party's spreadsheet as it comes: its own headings, columns mapped on the preview, new mobile ranges,
partial imports at the coordinator's request, and delegations over their entitlement."""

from pathlib import Path

import phonenumbers
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from delegates.imports import import_delegates
from delegates.models import Delegate, ImportColumnMapping, PendingImport
from tests.factories import DelegateFactory, OrganisationFactory

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.django_db


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def walton(db):
    # 900 members: 2 places (1 for the first 749, 1 more for part of the next 250); too few women or young for extras.
    return OrganisationFactory(
        name="Liverpool Walton", gss_code="E14001234", membership=900, women_members=50, young_members=10
    )


def upload(client, data: bytes, kind="delegates", name="party.csv"):
    return client.post(reverse("delegate-import"), {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv")})


# --- Headings as parties send them ----------------------------------------------------------------------


def test_a_party_file_with_its_own_headings_imports_and_lists_the_extra_columns(conference, walton):
    report = import_delegates(data=fixture("delegates_party.csv"), conference=conference)

    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (3, 0, 0)
    assert report.ignored == ["Membership No.", "Dietary requirements"]
    bob = Delegate.objects.get(first_name="Bob")
    assert (bob.last_name, bob.organisation, bob.mobile) == ("Smith", walton, "+447911323456")
    assert Delegate.objects.get(first_name="Ada").email == "ada@example.org"


@pytest.mark.parametrize(
    "headings",
    [
        "First name,Surname,Constituency,Mobile,Email",
        "forename,last name,organisation,phone,e-mail",
        "FIRST NAME,Family Name,Union,Telephone,E-mail address",
        "First_Name , Last-Name,Affiliate,Mobile No.,Email Address",
    ],
)
def test_every_common_heading_is_recognised_in_any_case_and_punctuation(conference, walton, headings):
    data = f"{headings}\nAda,Lovelace,Liverpool Walton,07700 900001,ada@example.org\n".encode()

    report = import_delegates(data=data, conference=conference)

    assert report.ok, report.lines()
    assert Delegate.objects.get().mobile == "+447700900001"
    assert Delegate.objects.get().email == "ada@example.org"


def test_the_preview_shows_the_first_rows_as_they_will_be_read(coordinator_client, conference, walton):
    response = upload(coordinator_client, fixture("delegates_party.csv"))

    report = response.context["report"]
    assert [(r.name, r.organisation, r.mobile, r.action) for r in report.preview] == [
        ("Ada Lovelace", "Liverpool Walton", "+447700900001", "new"),
        ("Bob Smith", "Liverpool Walton", "+447911323456", "new"),
        ("Cath Jones", "Liverpool Walton", "+447700900003", "new"),
    ]
    page = response.content.decode()
    assert "The first rows, as they will be read" in page
    assert "Ignored columns: Membership No., Dietary requirements<" in page


# --- Unknown headings: mapped on the preview, remembered ------------------------------------------------

LODGE_FILE = b"Given name,Surname,Lodge,Mobile\nAda,Lovelace,Liverpool Walton,07700 900001\n"


def test_an_unknown_heading_is_mapped_on_the_preview_then_imported_and_remembered(
    coordinator_client, conference, walton
):
    preview = upload(coordinator_client, LODGE_FILE)
    report = preview.context["report"]
    assert "No column for Organisation (CLP or affiliate)." in report.column_error
    assert [c.how for c in report.columns] == ["alias", "alias", "unknown", "alias"]
    assert "not recognised" in preview.content.decode()
    token = preview.context["token"]

    mapped = coordinator_client.post(
        reverse("delegate-import"),
        {"columns": token, "column-0": "first_name", "column-1": "last_name", "column-2": "organisation"},
    )

    assert mapped.context["report"].ok, mapped.context["report"].lines()
    assert "Ready to import delegates: 1 new" in mapped.content.decode()
    done = coordinator_client.post(reverse("delegate-import"), {"confirm": token}, follow=True)
    assert "Imported delegates: 1 new" in done.content.decode()
    assert Delegate.objects.get().organisation == walton
    assert ImportColumnMapping.objects.get().field == "organisation"
    # The next file with that heading needs no mapping.
    again = import_delegates(data=LODGE_FILE.replace(b"07700 900001", b"07700 900002"), conference=conference)
    assert again.ok and again.new == 1


def test_a_column_can_be_set_to_be_ignored(coordinator_client, conference, walton):
    data = b"first_name,last_name,organisation,mobile\nAda,Lovelace,Liverpool Walton,not a number\n"
    preview = upload(coordinator_client, data)
    assert preview.context["report"].problems

    ignored = coordinator_client.post(reverse("delegate-import"), {"columns": preview.context["token"], "column-3": ""})

    assert ignored.context["report"].ok
    assert ignored.context["report"].ignored == ["mobile"]


# --- Mobiles: a range newer than the library's tables ---------------------------------------------------


def test_a_mobile_in_a_range_the_library_calls_unallocated_imports_with_a_warning(conference, walton):
    assert not phonenumbers.is_valid_number(phonenumbers.parse("+447911323456"))  # unallocated for 9.0.43
    data = b"first_name,last_name,organisation,mobile\nBob,Smith,Liverpool Walton,07911 323456\n"

    report = import_delegates(data=data, conference=conference)

    assert report.ok, report.lines()
    assert Delegate.objects.get().mobile == "+447911323456"
    assert "1 mobile is in a range our phone-number tables do not list yet" in report.warnings[0]
    assert report.preview[0].warnings


# --- Import the good rows, skip the bad ones (only when asked) ------------------------------------------


def test_the_good_rows_can_be_imported_and_the_bad_ones_skipped_on_request(coordinator_client, conference, walton):
    preview = upload(coordinator_client, fixture("delegates_bad.csv"))
    page = preview.content.decode()
    assert "Nothing was imported: 6 rows have problems" in page
    assert "Import the 1 good row and skip the 6 bad ones" in page
    assert Delegate.objects.count() == 0

    done = coordinator_client.post(
        reverse("delegate-import"), {"confirm": preview.context["token"], "skip_bad_rows": "1"}, follow=True
    )

    assert "Imported delegates: 1 new, 0 updated, 0 unchanged; 6 bad rows skipped." in done.content.decode()
    assert list(Delegate.objects.values_list("first_name", flat=True)) == ["Ada"]
    assert not PendingImport.objects.exists()


def test_without_the_request_a_file_with_bad_rows_imports_nothing(coordinator_client, conference, walton):
    preview = upload(coordinator_client, fixture("delegates_bad.csv"))

    coordinator_client.post(reverse("delegate-import"), {"confirm": preview.context["token"]})

    assert Delegate.objects.count() == 0


def test_the_command_can_skip_bad_rows(conference, walton, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "bad.csv"
    path.write_bytes(fixture("delegates_bad.csv"))
    out = StringIO()

    call_command("import_delegates", str(path), "--skip-bad-rows", stdout=out)

    assert "1 new, 0 updated, 0 unchanged; 6 bad rows skipped" in out.getvalue()
    assert "line 5: organisation: No organisation called “Atlantis CLP”" in out.getvalue()
    assert Delegate.objects.count() == 1


# --- Delegations over their entitlement -----------------------------------------------------------------


def test_a_twenty_delegate_delegation_is_flagged_by_name(conference, walton):
    small = OrganisationFactory(name="Bootle", membership=700)  # 1 place, 1 delegate: fine
    rows = [f"Person{i},Walton,Liverpool Walton,07700 9001{i:02d}" for i in range(20)]
    rows.append("Solo,Bootle,Bootle,07700 900200")
    data = ("first_name,last_name,organisation,mobile\n" + "\n".join(rows) + "\n").encode()

    report = import_delegates(data=data, conference=conference, dry_run=True)

    assert report.ok
    assert report.warnings == [
        "Liverpool Walton would have 20 delegates but is entitled to 2: check for substitutes or a double entry."
    ]
    assert small.name not in " ".join(report.warnings)


def test_delegates_already_registered_count_towards_the_entitlement(coordinator_client, conference, walton):
    # No mobiles: the factory's numbers run through 07700 900000–999, and one equal to the file's would make the
    # row an update of that delegate (matched by mobile), not a third delegate.
    DelegateFactory.create_batch(2, conference=conference, organisation=walton, mobile="")
    data = b"first_name,last_name,organisation,mobile\nSub,Stitute,Liverpool Walton,07700 900150\n"

    response = upload(coordinator_client, data)

    assert "Liverpool Walton would have 3 delegates but is entitled to 2" in response.content.decode()
