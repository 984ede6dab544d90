"""A coordinator imports the party's spreadsheet (a bad file first) and adds a delegate by hand."""

import re
from pathlib import Path

import pytest

from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory, OrganisationFactory, UnionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "delegates" / "fixtures"


@pytest.fixture
def organisations(db, conference):
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    OrganisationFactory(name="Liverpool Walton", gss_code="E14001234", membership=1500)
    UnionFactory(name="Unite the Union")


def test_a_bad_file_is_reported_row_by_row_and_a_good_one_imports_after_preview(
    organisations, live_server, page, viewport_name
):
    log_in(page, live_server.url, "/import/")
    shot(page, f"import-{viewport_name}")

    page.get_by_label("CSV file").set_input_files(str(FIXTURES / "delegates_bad.csv"))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="The file has problems").wait_for()
    report = page.content()
    for line, reason in [(3, "12345"), (4, "not a mobile"), (5, "Atlantis CLP"), (8, "07700 900001")]:
        assert f">{line}<" in report and reason in report, (line, reason)
    shot(page, f"import-problems-{viewport_name}")

    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("CSV file").set_input_files(str(FIXTURES / "delegates_good.csv"))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Check before importing").wait_for()
    shot(page, f"import-preview-{viewport_name}")
    page.get_by_role("button", name=re.compile(r"^Import 4 ")).click()
    page.wait_for_url(re.compile(r"/import/"))
    assert "4 new" in page.content()


def test_a_landline_is_refused_on_the_delegate_form_with_the_reason(organisations, live_server, page, viewport_name):
    log_in(page, live_server.url, "/delegates/new/")
    page.get_by_label("Organisation").fill("Liverpool Walton")  # a searchable text box, not a long select
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Mobile").fill("0161 496 0000")
    page.get_by_role("button", name=re.compile("Save|Add")).first.click()
    error = page.locator(".field-error, .errorlist").first
    error.wait_for()
    assert "not a mobile number" in error.inner_text()
    assert page.get_by_label("First name").input_value() == "Nadia"  # nothing typed is lost
    shot(page, f"delegate-form-error-{viewport_name}")

    page.get_by_label("Mobile").fill("+44 (0)7700 900123")
    page.get_by_role("button", name=re.compile("Save|Add")).first.click()
    page.wait_for_url(re.compile(r"/delegates/\d+/$"))
    assert "+447700900123" in page.content()
    shot(page, f"delegate-detail-{viewport_name}")
