"""Chromium through Playwright's sync API, shared by the browser tests.

Playwright's sync API runs an event loop in the test thread. Django then refuses ORM calls there, and with
DJANGO_ALLOW_ASYNC_UNSAFE it would open a second, never-closed connection (PostgreSQL then cannot drop the
test database). So every test writes its data in fixtures listed before `browser`.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.services import in_ci

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


@pytest.fixture(params=["desktop", "phone"])
def viewport_name(request):
    return request.param


@pytest.fixture
def page(browser, viewport_name):
    """A fresh page at the viewport's size; JavaScript errors and Content-Security-Policy refusals fail the test."""
    context = browser.new_context(viewport=VIEWPORTS[viewport_name], is_mobile=viewport_name == "phone")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    refusals = watch_csp(page)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
    assert refusals == [], f"The Content-Security-Policy refused: {refusals}"


def watch_csp(page) -> list[str]:
    """Chromium's console errors for what the Content-Security-Policy refused (an inline style, a script...)."""
    refusals = []
    page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text and refusals.append(m.text))
    return refusals


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, base_url, path, *, username="coordinator", screenshot=None):
    """Open a coordinator page as an anonymous visitor, log in through the form, land back on it."""
    page.goto(f"{base_url}{path}")
    assert "/login/" in page.url
    if screenshot:
        shot(page, screenshot)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
