"""On a phone, a coordinator uploads the party's file with a heading Cardvote does not know, says which
column it is, checks the rows as they will be read, and imports them."""

import re

import pytest

from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARTY_FILE = (
    "Forename,Surname,Lodge,Mobile Number,E-mail address,Membership No.\n"
    "Ada,Lovelace,Liverpool Walton,07700 900001,ada@example.org,L0001\n"
    "Bob,Smith-Featherstonehaugh-Cholmondeley,Liverpool Walton,+44 (0)7911 323456,,L0002\n"
    "Cath,Jones,Liverpool Walton,0044 7700 900003,cath@example.org,L0003\n"
)


@pytest.fixture
def organisations(db, conference):
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    OrganisationFactory(name="Liverpool Walton", gss_code="E14001234", membership=900, women_members=10)


def assert_fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_a_party_file_with_an_unknown_heading_is_mapped_and_imported(
    organisations, live_server, page, viewport_name, tmp_path
):
    path = tmp_path / "party.csv"
    path.write_text(PARTY_FILE, encoding="utf-8")
    log_in(page, live_server.url, "/import/")

    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Which column is which?").wait_for()
    assert "No column for Organisation (CLP or affiliate)" in page.content()
    assert_fits(page)
    shot(page, f"import-mapping-{viewport_name}")

    page.get_by_label("“Lodge” not recognised").select_option(label="Organisation (CLP or affiliate)")
    page.get_by_role("button", name="Use these columns").click()
    page.get_by_role("heading", name="Check before importing").wait_for()
    preview = page.locator("#import-preview").inner_text()
    assert "Ada Lovelace" in preview and "Liverpool Walton" in preview and "+447911323456" in preview
    assert "Ignored column: Membership No." in page.content()
    assert_fits(page)
    shot(page, f"import-mapped-preview-{viewport_name}")

    page.get_by_role("button", name=re.compile(r"^Import 3 delegates")).click()
    page.wait_for_url(re.compile(r"/import/$"))
    assert "Imported delegates: 3 new, 0 updated, 0 unchanged." in page.content()
    assert_fits(page)
    shot(page, f"import-done-{viewport_name}")


@pytest.fixture
def file_being_checked(organisations, conference):
    from django.contrib.auth import get_user_model

    from delegates import imports
    from delegates.models import PendingImport

    user = get_user_model().objects.get(username="coordinator")
    pending = imports.start_pending_import(
        user=user, kind="delegates", conference=conference, data=PARTY_FILE.encode() * 1000, file_name="party.csv"
    )
    PendingImport.objects.filter(pk=pending.pk).update(rows_done=1600)
    return pending.token


def test_a_file_being_checked_shows_a_progress_bar_that_fits_a_phone(
    file_being_checked, live_server, page, viewport_name
):
    log_in(page, live_server.url, "/import/")
    page.goto(f"{live_server.url}/import/{file_being_checked}/")

    page.get_by_role("heading", name="Checking the file…").wait_for()
    bar = page.locator("#import-progress")
    assert bar.get_attribute("value") == "1600"
    page.wait_for_timeout(1200)  # the script has polled the progress at least once, without errors
    assert "1600 of 3999 rows" in page.locator("#import-progress-text").inner_text()
    assert_fits(page)
    shot(page, f"import-progress-{viewport_name}")

    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(re.compile(r"/import/$"))
    assert "Import cancelled" in page.content()
