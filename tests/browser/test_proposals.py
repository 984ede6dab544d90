"""Replies to briefings in Chromium: two delegates answer a briefing ("Yes I'm for it 👍", "not sure yet") through
messaging's inbound path; on a desktop and a 390-px phone a coordinator accepts one and rejects the other with one
tap each (plain forms). Screenshots land in test-output/screenshots/."""

from unittest import mock

import pytest

from lobbying import briefings, services
from lobbying.models import Motion, ProposedStance
from messaging import services as messaging_services
from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory, SmsConsentFactory
from tests.services import require_postgres

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting(conference):
    """A briefing about a motion sent to two delegates, who answer it through messaging's inbound path."""
    require_postgres()  # send_batch's bulk insert
    coordinator = CoordinatorFactory(username="coordinator", password=PASSWORD)
    motion = services.create_motion(
        conference=conference, title="Scrap the cap", text="Conference notes.", position=Motion.Position.SUPPORT
    )
    wirral = OrganisationFactory(name="Wirral West")
    people = []
    for i, (first, last) in enumerate([("Ada", "Lovelace"), ("Bob", "Crow")]):
        delegate = DelegateFactory(
            conference=conference, organisation=wirral, first_name=first, last_name=last, mobile=f"+44770090010{i}"
        )
        SmsConsentFactory(delegate=delegate)
        people.append(delegate)
    briefing = briefings.compose_briefing(
        conference=conference, body="Please vote FOR {motion}", created_by=coordinator, motion=motion
    )
    with mock.patch.object(messaging_services, "dispatch"):  # no worker here: nothing is published
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    for i, (delegate, body) in enumerate(zip(people, ["Yes I'm for it 👍", "not sure yet"], strict=True)):
        messaging_services.receive_inbound(
            from_number=delegate.mobile, to_number="+447700900999", body=body, provider_sid=f"SMb{i}"
        )
    assert ProposedStance.objects.count() == 2
    return motion


def test_a_coordinator_accepts_one_reply_and_rejects_another_with_one_tap_each(
    waiting, live_server, page, viewport_name
):
    log_in(page, live_server.url, "/lobbying/proposals/")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    ada = page.locator("[data-proposal]", has_text="Ada Lovelace")
    assert "Yes I'm for it 👍" in ada.inner_text()
    shot(page, f"proposals-{viewport_name}")

    ada.get_by_role("button", name="Accept").click()
    page.wait_for_selector("text=Recorded: Ada Lovelace is for on Scrap the cap.")
    assert page.locator("[data-proposal]").count() == 1
    shot(page, f"proposals-accepted-{viewport_name}")

    page.locator("[data-proposal]", has_text="Bob Crow").get_by_role("button", name="Reject").click()
    page.wait_for_selector("text=Rejected: Bob Crow")
    assert page.locator("[data-proposal]").count() == 0
    assert "Nothing waiting" in page.content()
