"""A coordinator creates their API token on a phone and a desktop; a guessed-at account shows the lockout page."""

import re

import pytest
from django.conf import settings

from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def coordinator_account(db):
    return CoordinatorFactory(username="coordinator", password=PASSWORD)


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_coordinator_creates_an_api_token_and_sees_the_key_once(coordinator_account, live_server, page, viewport_name):
    log_in(page, live_server.url, "/account/token/")
    assert page.get_by_text("You have no API token").is_visible()
    page.get_by_role("button", name="Create a token").click()

    key = page.locator("code.token-key").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert page.get_by_text("shown only this once").is_visible()
    assert fits(page)
    shot(page, f"account-token-new-{viewport_name}")

    page.goto(f"{live_server.url}/account/token/")
    assert key not in page.content() and key[:8] in page.content()
    shot(page, f"account-token-{viewport_name}")


def test_too_many_wrong_passwords_show_a_clear_lockout_page(coordinator_account, live_server, page, viewport_name):
    page.goto(f"{live_server.url}/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill("coordinator")
        page.get_by_label("Password").fill("wrong guess")
        page.get_by_role("button", name="Log in").click()
        if page.get_by_role("heading", name="Too many wrong passwords").count():
            break
    assert page.get_by_role("heading", name="Too many wrong passwords").is_visible()
    assert page.get_by_text("Try again in 15 minutes").is_visible()
    assert fits(page)
    shot(page, f"login-locked-out-{viewport_name}")
