"""CSV imports: all or nothing, every bad row reported with its line, re-importing changes nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from delegates.imports import DelegateResource, import_delegates, import_organisations
from delegates.models import Delegate, Organisation, SmsConsent
from tests.factories import DelegateFactory, OrganisationFactory, UnionFactory

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def organisations(db):
    return [
        OrganisationFactory(name="Liverpool Walton", gss_code="E14001234", membership=1500),
        UnionFactory(name="Unite the Union"),
    ]


def reasons_by_line(report) -> dict[int, str]:
    return {p.line: "; ".join(p.reasons) for p in report.problems}


# --- Delegates ------------------------------------------------------------------------------------------


def test_good_file_imports_every_delegate_normalised(conference, organisations):
    report = import_delegates(data=fixture("delegates_good.csv"), conference=conference)

    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (4, 0, 0)
    assert report.summary() == "Imported delegates: 4 new, 0 updated, 0 unchanged."
    cath = Delegate.objects.get(first_name="Cath")
    assert cath.mobile == "+447700900003"
    assert cath.organisation.name == "Liverpool Walton"  # matched by GSS code
    assert cath.seat_type == Delegate.SeatType.ADDITIONAL_WOMAN
    assert cath.is_attending is True  # blank means the default
    bob = Delegate.objects.get(first_name="Bob")
    assert (bob.gender, bob.is_attending, bob.mobile) == ("man", False, "+447700900002")
    dev = Delegate.objects.get(first_name="Dev")
    assert (dev.mobile, dev.gender, dev.conference) == ("", "non_binary", conference)


def test_consent_in_the_file_is_recorded_with_method_and_wording(conference, organisations, coordinator):
    import_delegates(data=fixture("delegates_good.csv"), conference=conference, user=coordinator)

    consent = SmsConsent.objects.get()
    assert consent.delegate.first_name == "Ada"
    assert consent.method == SmsConsent.Method.PAPER_FORM
    assert consent.wording.startswith("I agree to receive texts")
    assert consent.recorded_by == coordinator


def test_reimporting_the_same_file_changes_nothing(conference, organisations):
    import_delegates(data=fixture("delegates_good.csv"), conference=conference)
    before = list(Delegate.objects.order_by("pk").values())

    report = import_delegates(data=fixture("delegates_good.csv"), conference=conference)

    assert (report.new, report.updated, report.unchanged) == (0, 0, 4)
    assert report.summary() == "Imported delegates: 0 new, 0 updated, 4 unchanged."
    assert list(Delegate.objects.order_by("pk").values()) == before
    assert SmsConsent.objects.count() == 1


def test_a_changed_row_updates_the_delegate_matched_by_mobile(conference, organisations):
    import_delegates(data=fixture("delegates_good.csv"), conference=conference)
    changed = fixture("delegates_good.csv").replace(b"Ada,Lovelace", b"Ada,King")

    report = import_delegates(data=changed, conference=conference)

    assert (report.new, report.updated, report.unchanged) == (0, 1, 3)
    assert Delegate.objects.get(mobile="+447700900001").last_name == "King"
    assert Delegate.objects.count() == 4


def test_a_row_without_mobile_matches_on_organisation_and_name(conference, organisations):
    dev = DelegateFactory(
        conference=conference, organisation=organisations[1], first_name="Dev", last_name="Patel", mobile=""
    )
    data = b"first_name,last_name,organisation,email\ndev,PATEL,Unite the Union,new@example.org\n"

    report = import_delegates(data=data, conference=conference)

    assert (report.new, report.updated) == (0, 1)
    dev.refresh_from_db()
    assert dev.email == "new@example.org"
    assert dev.first_name == "dev"  # the file is the truth for the columns it has


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_line(conference, organisations):
    report = import_delegates(data=fixture("delegates_bad.csv"), conference=conference)

    assert not report.ok
    assert Delegate.objects.count() == 0
    assert report.summary().startswith("Nothing was imported: 6 rows have problems")
    reasons = reasons_by_line(report)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert "not a valid phone number" in reasons[3]
    assert "not a mobile number" in reasons[4]
    assert "No organisation called “Atlantis CLP”" in reasons[5]
    assert "first_name: Missing first name." in reasons[6]
    assert "“robot” is not a gender" in reasons[7]
    assert "“front row” is not a seat type" in reasons[7]
    assert "“maybe” is not yes or no" in reasons[7]
    assert "The same mobile is on line 2" in reasons[8]


def test_line_numbers_count_blank_lines_and_multiline_cells(conference, organisations):
    data = (
        b"first_name,last_name,organisation,mobile,email\n"
        b'Ada,"Love\nlace",Liverpool Walton,07700 900001,\n'
        b"\n"
        b"Bob,Smith,Liverpool Walton,0161 496 0000,\n"
    )

    report = import_delegates(data=data, conference=conference)

    assert list(reasons_by_line(report)) == [5]


def test_unknown_organisation_suggests_a_close_name(conference, organisations):
    data = b"first_name,last_name,organisation\nAda,Lovelace,Liverpool Waltn\n"

    report = import_delegates(data=data, conference=conference)

    assert "Did you mean “Liverpool Walton”?" in report.problems[0].reasons[0]


def test_a_duplicate_delegate_without_mobile_in_the_file_is_reported(conference, organisations):
    data = b"first_name,last_name,organisation\nAda,Lovelace,Liverpool Walton\nada,lovelace,liverpool walton\n"

    report = import_delegates(data=data, conference=conference)

    assert reasons_by_line(report) == {3: "The same delegate (organisation and name) is on line 2."}
    assert Delegate.objects.count() == 0


def test_a_mobile_already_held_by_another_delegate_is_an_update_not_a_duplicate(conference, organisations):
    DelegateFactory(conference=conference, organisation=organisations[0], mobile="+447700900001")
    data = b"first_name,last_name,organisation,mobile\nAda,Lovelace,Liverpool Walton,07700900001\n"

    report = import_delegates(data=data, conference=conference)

    assert (report.new, report.updated) == (0, 1)
    assert Delegate.objects.get().first_name == "Ada"


def test_an_unknown_organisation_on_a_known_mobile_reports_only_the_organisation(conference, organisations):
    DelegateFactory(conference=conference, organisation=organisations[0], mobile="+447700900001")
    data = b"first_name,last_name,organisation,mobile\nAda,Lovelace,Atlantis CLP,07700900001\n"

    report = import_delegates(data=data, conference=conference)

    assert report.problems[0].reasons == ["organisation: No organisation called “Atlantis CLP”."]


def test_consent_method_without_wording_is_a_bad_row(conference, organisations):
    data = b"first_name,last_name,organisation,sms_consent_method\nAda,Lovelace,Liverpool Walton,web form\n"

    report = import_delegates(data=data, conference=conference)

    assert "needs sms_consent_wording" in report.problems[0].reasons[0]


def test_additional_woman_seat_for_a_man_is_refused_by_the_model_rule(conference, organisations):
    data = b"first_name,last_name,organisation,gender,seat_type\nBob,Smith,Liverpool Walton,man,additional_woman\n"

    report = import_delegates(data=data, conference=conference)

    assert report.problems[0].reasons == ["seat_type: The additional woman place is for a woman delegate."]


def test_a_bad_email_is_a_bad_row(conference, organisations):
    data = b"first_name,last_name,organisation,email\nAda,Lovelace,Liverpool Walton,not-an-email\n"

    report = import_delegates(data=data, conference=conference)

    assert report.problems[0].reasons == ["email: Enter a valid email address."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"  \n\n", "The file is empty"),
        (b"first_name,last_name,organisation\n", "has a header row but no delegate rows"),
        (fixture("delegates_latin1.csv"), "not UTF-8 text (the first unreadable character is on line 2)"),
        ("first_name,last_name,organisation\n".encode("utf-16"), "saved as UTF-16"),
        (b"PK\x03\x04rest-of-a-zip", "spreadsheet file"),
    ],
)
def test_whole_file_problems_get_one_clear_message(conference, organisations, data, message):
    report = import_delegates(data=data, conference=conference)

    assert message in report.file_error
    assert report.summary().startswith("Nothing was imported")
    assert Delegate.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (fixture("delegates_wrong_columns.csv"), "No column for First name and Organisation (CLP or affiliate)."),
        (b"first_name,last_name,organisation,mobile,Mobile\nA,B,C,D,E\n", "More than one column for Mobile."),
    ],
)
def test_columns_that_cannot_be_read_ask_for_a_choice_and_import_nothing(conference, organisations, data, message):
    report = import_delegates(data=data, conference=conference)

    assert message in report.column_error
    assert report.summary().startswith("Nothing was imported yet")
    assert Delegate.objects.count() == 0


def test_an_oversized_file_is_refused_before_reading(conference, organisations, settings):
    settings.IMPORT_MAX_BYTES = 2048
    data = b"first_name,last_name,organisation\n" + b"Ada,Lovelace,Liverpool Walton\n" * 100

    report = import_delegates(data=data, conference=conference)

    assert "the most this page accepts is 2 KB" in report.file_error


def test_utf8_with_a_bom_and_crlf_line_ends_is_accepted(conference, organisations):
    report = import_delegates(data=fixture("delegates_utf8_bom.csv"), conference=conference)

    assert report.ok, report.lines()
    assert Delegate.objects.get().first_name == "Zoë"


def test_headers_are_matched_ignoring_case_and_spaces(conference, organisations):
    data = b"First Name,Last-Name, ORGANISATION \nAda,Lovelace,Liverpool Walton\n"

    report = import_delegates(data=data, conference=conference)

    assert report.ok, report.lines()


def test_a_row_with_more_cells_than_headers_is_a_bad_row(conference, organisations):
    data = b"first_name,last_name,organisation\nAda,Lovelace,Liverpool Walton,extra\n"

    report = import_delegates(data=data, conference=conference)

    assert reasons_by_line(report) == {2: "This row has 4 cells but the header has 3."}
    assert Delegate.objects.count() == 0


def test_a_dry_run_reports_without_writing(conference, organisations):
    report = import_delegates(data=fixture("delegates_good.csv"), conference=conference, dry_run=True)

    assert report.summary() == "Ready to import delegates: 4 new, 0 updated, 0 unchanged."
    assert Delegate.objects.count() == 0
    assert SmsConsent.objects.count() == 0


def test_an_exported_file_imports_back_unchanged(conference, organisations):
    import_delegates(data=fixture("delegates_good.csv"), conference=conference)
    exported = DelegateResource(conference=conference).export(Delegate.objects.filter(conference=conference))

    report = import_delegates(data=exported.csv.encode(), conference=conference)

    assert (report.new, report.updated, report.unchanged) == (0, 0, 4)


# --- Organisations --------------------------------------------------------------------------------------


def test_organisations_import_then_reimport_changes_nothing(db):
    report = import_organisations(data=fixture("organisations_good.csv"))

    assert report.summary() == "Imported organisations: 3 new, 0 updated, 0 unchanged."
    walton = Organisation.objects.get(gss_code="E14001234")
    assert (walton.kind, walton.region, walton.nation, walton.membership) == ("clp", "North West", "England", 1250)
    assert Organisation.objects.get(name="Unite the Union").membership == 1_200_000
    again = import_organisations(data=fixture("organisations_good.csv"))
    assert again.summary() == "Imported organisations: 0 new, 0 updated, 3 unchanged."


def test_organisations_are_matched_by_gss_code_before_name(db):
    OrganisationFactory(name="Liverpool, Walton", gss_code="E14001234")

    report = import_organisations(data=fixture("organisations_good.csv"))

    assert (report.new, report.updated) == (2, 1)
    assert Organisation.objects.get(gss_code="E14001234").name == "Liverpool Walton"


def test_bad_organisation_rows_are_each_reported_and_nothing_is_written(db):
    report = import_organisations(data=fixture("organisations_bad.csv"))

    assert Organisation.objects.count() == 0
    reasons = reasons_by_line(report)
    assert sorted(reasons) == [2, 3, 4, 6]
    assert reasons[2] == "region: A CLP needs its region."
    assert "“guild” is not a kind" in reasons[3]
    assert "“Atlantis” is not a region" in reasons[4]
    assert "“lots” is not a whole number" in reasons[4]
    assert reasons[6] == "name: The same organisation is on line 5."


# --- Management commands --------------------------------------------------------------------------------


def test_import_delegates_command_prints_the_report(conference, organisations, tmp_path):
    path = tmp_path / "delegates.csv"
    path.write_bytes(fixture("delegates_good.csv"))
    out = StringIO()

    call_command("import_delegates", str(path), stdout=out)

    assert "Imported delegates: 4 new, 0 updated, 0 unchanged." in out.getvalue()
    assert Delegate.objects.count() == 4


def test_import_delegates_command_fails_listing_bad_lines(conference, organisations, tmp_path):
    path = tmp_path / "delegates.csv"
    path.write_bytes(fixture("delegates_bad.csv"))
    out = StringIO()

    with pytest.raises(CommandError, match="6 rows have problems"):
        call_command("import_delegates", str(path), stdout=out)

    assert "line 4: mobile: “0161 496 0000” is a landline: it is not a mobile number" in out.getvalue()
    assert Delegate.objects.count() == 0


def test_import_delegates_command_can_target_a_conference_and_dry_run(conference, organisations, tmp_path):
    path = tmp_path / "delegates.csv"
    path.write_bytes(fixture("delegates_good.csv"))
    out = StringIO()

    call_command("import_delegates", str(path), "--conference", conference.slug, "--dry-run", stdout=out)

    assert "Ready to import delegates: 4 new" in out.getvalue()
    assert Delegate.objects.count() == 0
    with pytest.raises(CommandError, match="No conference"):
        call_command("import_delegates", str(path), "--conference", "nope", stdout=out)


def test_import_organisations_command_reports_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_organisations", str(tmp_path / "missing.csv"))


def test_import_organisations_command_imports(db, tmp_path):
    path = tmp_path / "organisations.csv"
    path.write_bytes(fixture("organisations_good.csv"))
    out = StringIO()

    call_command("import_organisations", str(path), stdout=out)

    assert "3 new" in out.getvalue()


# --- The coordinator page -------------------------------------------------------------------------------


def upload(client, data: bytes, kind="delegates", name="delegates.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("delegate-import"), {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv")})


def test_import_page_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("delegate-import"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_import_page_is_forbidden_to_non_coordinators(outsider_client):
    assert outsider_client.get(reverse("delegate-import")).status_code == 403


def test_import_page_shows_the_form_and_the_columns(coordinator_client, conference):
    page = coordinator_client.get(reverse("delegate-import")).content.decode()

    assert "SMS consent: wording agreed to" in page
    assert conference.name in page


def test_import_page_previews_then_imports_on_confirm(coordinator_client, conference, organisations):
    preview = upload(coordinator_client, fixture("delegates_good.csv"))

    assert preview.status_code == 200
    assert "Ready to import delegates: 4 new, 0 updated, 0 unchanged." in preview.content.decode()
    assert Delegate.objects.count() == 0
    token = preview.context["token"]

    done = coordinator_client.post(reverse("delegate-import"), {"confirm": token}, follow=True)

    assert "Imported delegates: 4 new, 0 updated, 0 unchanged." in done.content.decode()
    assert Delegate.objects.count() == 4
    # The stored upload is used once.
    again = coordinator_client.post(reverse("delegate-import"), {"confirm": token})
    assert "upload the file again" in again.content.decode()
    assert Delegate.objects.count() == 4


def test_import_page_shows_bad_rows_and_offers_no_confirm(coordinator_client, conference, organisations):
    response = upload(coordinator_client, fixture("delegates_bad.csv"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "6 rows have problems" in page
    assert "No organisation called “Atlantis CLP”" in page
    assert "Import the 1 good row and skip the 6 bad ones" in page  # only at the coordinator's request
    assert ">Import 1 delegates<" not in page
    assert Delegate.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (fixture("delegates_latin1.csv"), "not UTF-8 text"),
        (fixture("delegates_wrong_columns.csv"), "No column for First name and Organisation"),
    ],
)
def test_import_page_shows_file_problems_as_form_errors(coordinator_client, conference, organisations, data, message):
    response = upload(coordinator_client, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Delegate.objects.count() == 0


def test_import_page_refuses_an_oversized_file_with_a_message(coordinator_client, conference, organisations, settings):
    settings.IMPORT_MAX_BYTES = 2048

    response = upload(coordinator_client, b"first_name,last_name,organisation\n" + b"x,y,z\n" * 1000)

    assert response.status_code == 200
    assert "the most this page accepts is 2 KB" in response.content.decode()


def test_import_page_imports_organisations_too(coordinator_client, db):
    preview = upload(coordinator_client, fixture("organisations_good.csv"), kind="organisations")

    coordinator_client.post(reverse("delegate-import"), {"confirm": preview.context["token"]})

    assert Organisation.objects.count() == 3


def test_a_confirm_token_belongs_to_the_coordinator_who_uploaded(
    coordinator_client, conference, organisations, second_coordinator, client
):
    token = upload(coordinator_client, fixture("delegates_good.csv")).context["token"]
    client.force_login(second_coordinator)

    response = client.post(reverse("delegate-import"), {"confirm": token})

    assert "upload the file again" in response.content.decode()
    assert Delegate.objects.count() == 0
