"""A data protection officer erases a delegate who shares an email with a volunteer, on a phone and a desktop."""

import re

import pytest
from django.contrib.auth.models import Permission

from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory
from tests.volunteers.support import VolunteerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONG_WORD = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"


@pytest.fixture
def people(db, conference):
    dpo = CoordinatorFactory(username="coordinator", password=PASSWORD)
    dpo.user_permissions.add(Permission.objects.get(codename="data_protection"))
    DelegateFactory(
        conference=conference,
        organisation=OrganisationFactory(name=f"{LONG_WORD} Constituency Labour Party"),
        first_name=LONG_WORD,
        last_name="Okafor",
        email="nadia@example.org",
        mobile="+447700900321",
    )
    VolunteerFactory(name="Nadia Volunteer", email="nadia@example.org", mobile="+447700900322")


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_erasing_one_of_two_records_sharing_an_email(people, live_server, page, viewport_name):
    width = 390 if viewport_name == "phone" else 1280
    log_in(page, live_server.url, "/privacy/erase/")
    page.get_by_label("Mobile number or email address").fill("nadia@example.org")
    page.get_by_role("button", name="Find their records").click()
    page.get_by_text("2 records match").wait_for()
    assert "nadia@example.org" not in page.url
    _fits(page, width)
    shot(page, f"erasure-choose-{viewport_name}")

    page.get_by_label(re.compile("Nadia Volunteer")).uncheck()
    page.get_by_role("button", name="Show what would be erased").click()
    page.get_by_role("heading", name="What would be erased").wait_for()
    assert "Nadia Volunteer" not in page.locator("#erasure-people").inner_text()
    _fits(page, width)
    shot(page, f"erasure-preview-{viewport_name}")

    page.get_by_role("button", name="Erase for good").click()  # not confirmed: the browser refuses to submit
    assert "/privacy/erase/done/" not in page.url
    page.get_by_label(re.compile("erase them")).check()
    page.get_by_role("button", name="Erase for good").click()
    page.wait_for_url(re.compile(r"/privacy/erase/done/\d+/$"))
    assert "Delegate records" in page.content() and "Okafor" not in page.content()
    _fits(page, width)
    shot(page, f"erasure-done-{viewport_name}")
