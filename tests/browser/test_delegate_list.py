"""A coordinator logs in through the real form and filters the delegate list, in Chromium, on a laptop and a phone.

Screenshots land in test-output/screenshots/ (git-ignored) so a person can look at the pages.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

from delegates.demo import seed_demo
from delegates.models import Conference, Delegate, Organisation, Region
from tests.factories import CoordinatorFactory
from tests.services import in_ci

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"
PASSWORD = "correct horse battery staple"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"needs Debian's chromium at {CHROMIUM}"
        if in_ci():
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    # Playwright's sync API runs an event loop in this thread. Django then refuses ORM calls here, and with
    # DJANGO_ALLOW_ASYNC_UNSAFE it would open a second, never-closed connection (PostgreSQL then cannot drop
    # the test database). So every database write happens before this fixture: list `demo` first.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            yield browser
        finally:
            browser.close()


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


def _shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _log_in(page, base_url, viewport_name):
    page.goto(f"{base_url}/delegates/")
    # Anonymous: sent to the login form, which brings us back afterwards.
    assert "/login/" in page.url
    _shot(page, f"login-{viewport_name}")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/delegates/$"))


@pytest.mark.parametrize("viewport_name", ["desktop", "phone"])
def test_coordinator_logs_in_and_filters_delegates_by_region_and_name(demo, live_server, browser, viewport_name):
    context = browser.new_context(viewport=VIEWPORTS[viewport_name], is_mobile=viewport_name == "phone")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _log_in(page, live_server.url, viewport_name)
        assert page.get_by_role("heading", name="Delegates").is_visible()
        assert "Showing 1–50 of" in page.locator(".result-count").inner_text()
        _shot(page, f"delegate-list-{viewport_name}")

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
        _shot(page, f"delegate-list-filtered-{viewport_name}")

        page.get_by_role("link", name="Dashboard").click()
        page.wait_for_url(re.compile(r"/$"))
        assert page.get_by_text("Labour Party Conference 2027").first.is_visible()
        _shot(page, f"dashboard-{viewport_name}")
        assert errors == []
    finally:
        context.close()
