"""A coordinator logs in through the real form and filters the delegate list, in Chromium, on a laptop and a phone.

Screenshots land in test-output/screenshots/ (git-ignored) so a person can look at the pages.
"""

import re

import pytest

from delegates.demo import seed_demo
from delegates.models import Conference, Delegate, Organisation, Region
from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db):
    """The realistic demo conference, plus two delegates the test can find by a name no demo delegate has."""
    seed_demo()
    conference = Conference.current()
    north_west = Organisation.objects.filter(kind="clp", region=Region.NORTH_WEST).order_by("name").first()
    london = Organisation.objects.filter(kind="clp", region=Region.LONDON).order_by("name").first()
    Delegate.objects.create(conference=conference, organisation=north_west, first_name="Zebedee", last_name="Quill")
    Delegate.objects.create(conference=conference, organisation=london, first_name="Zebedee", last_name="Rook")
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    return {"north_west": north_west, "london": london}


def test_coordinator_logs_in_and_filters_delegates_by_region_and_name(demo, live_server, page, viewport_name):
    log_in(page, live_server.url, "/delegates/", screenshot=f"login-{viewport_name}")
    assert page.get_by_role("heading", name="Delegates").is_visible()
    assert "Showing 1–50 of" in page.locator(".result-count").inner_text()
    shot(page, f"delegate-list-{viewport_name}")

    filters = page.locator("details.list-filters")
    if not filters.evaluate("el => el.open"):  # folded on a phone
        filters.locator("summary").click()
    page.get_by_label("Region").select_option("North West")
    page.get_by_role("searchbox", name="Search delegates").fill("zebedee")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"q=zebedee"))
    # Unused filters stay out of the address (cardvote.js), so it can be read and shared.
    assert page.url.endswith("/delegates/?q=zebedee&region=North+West")

    rows = page.locator("#delegate-table tbody tr")
    assert rows.count() == 1
    assert "Zebedee Quill" in rows.first.inner_text()
    assert demo["north_west"].name in rows.first.inner_text()
    assert "Zebedee Rook" not in page.content()
    assert "Showing 1–1 of 1 delegate" in page.locator(".result-count").inner_text()
    chips = page.locator(".chips").inner_text()
    assert "Region:" in chips and "North West" in chips and "zebedee" in chips
    # The download link exports exactly this list.
    href = page.get_by_role("link", name="Download CSV").get_attribute("href")
    assert "region=North+West" in href and "q=zebedee" in href
    shot(page, f"delegate-list-filtered-{viewport_name}")

    if viewport_name == "phone":  # the navigation is folded into the menu on a phone
        page.locator(".site-menu > summary").click()
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_text("Labour Party Conference 2027").first.is_visible()
    shot(page, f"dashboard-{viewport_name}")
