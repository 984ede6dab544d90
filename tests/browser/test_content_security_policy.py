"""The Content-Security-Policy (no inline script or style, nothing from another origin) breaks no page.

Every browser test's `page` fixture fails on a refusal, and the phone-width walk checks every coordinator page;
this covers what they do not visit: the public sign-up list, the login page, the API docs and the admin.
"""

import pytest
from django.urls import reverse

from tests.browser.conftest import log_in, shot, watch_csp
from tests.browser.test_phone_width import seeded  # noqa: F401  (the `seeded` fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_admin_and_public_pages_keep_the_content_security_policy(seeded, live_server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    refusals = watch_csp(page)
    try:
        page.goto(f"{live_server.url}/shifts/")
        log_in(page, live_server.url, "/")
        for path in [
            "/admin/",
            "/admin/delegates/delegate/",
            f"/admin/delegates/delegate/{seeded['delegate'].pk}/change/",
            reverse("account-token"),
            reverse("api-docs"),
        ]:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"], path
        # Swagger UI drew the operations from the schema: its start-up script (a file, not inline) ran.
        page.locator(".opblock").first.wait_for()
        shot(page, "api-docs-desktop")
    finally:
        context.close()
    assert refusals == [], f"The Content-Security-Policy refused: {refusals}"
