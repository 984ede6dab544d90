"""Replies to briefings in Chromium: the proposals page on a desktop and a 390-px phone, accepted and rejected with
one tap each, without JavaScript doing anything. Screenshots land in test-output/screenshots/."""

import pytest

from lobbying import replies, services
from lobbying.models import Level, Motion
from messaging.models import InboundMessage, OutboundMessage
from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting(conference):
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    motion = services.create_motion(
        conference=conference, title="Scrap the cap", text="Conference notes.", position=Motion.Position.SUPPORT
    )
    wirral = OrganisationFactory(name="Wirral West")
    for i, (first, last, body, level) in enumerate(
        [("Ada", "Lovelace", "Yes I'm for it 👍", Level.FOR), ("Bob", "Crow", "not sure yet", Level.UNDECIDED)]
    ):
        delegate = DelegateFactory(
            conference=conference, organisation=wirral, first_name=first, last_name=last, mobile=f"+44770090010{i}"
        )
        sent = OutboundMessage.objects.create(
            idempotency_key=f"briefing:1:delegate:{delegate.pk}",
            to=delegate.mobile,
            body="Vote FOR",
            purpose="briefing",
        )
        said = InboundMessage.objects.create(
            from_number=delegate.mobile, body=body, provider_sid=f"SMb{i}", in_reply_to=sent, handled=True
        )
        replies.propose_stance(inbound=said, delegate=delegate, motion=motion, level=level)
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
