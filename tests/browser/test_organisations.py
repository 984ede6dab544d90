"""A coordinator finds a CLP and sees its entitlement and its delegates' card votes."""

import re

import pytest

from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def walton(db, conference):
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    walton = OrganisationFactory(name="Liverpool Walton", membership=1300, women_members=600, region="North West")
    OrganisationFactory(name="Liverpool Riverside", membership=900, region="North West")
    DelegateFactory(conference=conference, organisation=walton, first_name="Ada", last_name="Lovelace")
    DelegateFactory(conference=conference, organisation=walton, first_name="Bob", last_name="Smith")
    return walton


def test_coordinator_searches_organisations_and_opens_one(walton, live_server, page, viewport_name):
    log_in(page, live_server.url, "/organisations/")
    page.get_by_label("Search").fill("walton")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.wait_for_url(re.compile(r"q=walton"))
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "Liverpool Walton" in rows.first.inner_text()
    shot(page, f"organisation-list-{viewport_name}")

    rows.first.get_by_role("link", name="Liverpool Walton").click()
    page.wait_for_url(re.compile(rf"/organisations/{walton.pk}/$"))
    assert page.get_by_role("heading", name="Liverpool Walton").is_visible()
    text = page.content()
    assert "Ada Lovelace" in text and "Bob Smith" in text
    assert "650" in text  # 1,300 members split between two attending delegates
    shot(page, f"organisation-detail-{viewport_name}")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Women members").fill("99999")  # more women than members
    page.get_by_role("button", name=re.compile("Save")).first.click()
    page.locator(".field-error, .errorlist").first.wait_for()
    assert page.locator("#id_name").input_value() == "Liverpool Walton"  # nothing typed is lost
    shot(page, f"organisation-form-error-{viewport_name}")
