"""A coordinator reads a delegate's reply, opens the number's history and marks the reply handled."""

import re

import pytest

from messaging.models import InboundMessage, OutboundMessage
from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reply(db, conference):
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    delegate = DelegateFactory(
        conference=conference,
        first_name="Nadia",
        last_name="Okafor",
        mobile="+447700900321",
        organisation=OrganisationFactory(name="Wirral West"),
    )
    briefing = OutboundMessage.objects.create(
        idempotency_key="briefing:1:delegate:1",
        to=delegate.mobile,
        body="Cardvote campaign: vote AGAINST the Border Security Command motion this afternoon. Reply STOP to opt out",
        purpose="briefing",
        status=OutboundMessage.Status.DELIVERED,
        segments=1,
    )
    return InboundMessage.objects.create(
        from_number=delegate.mobile,
        body="Thanks, I'll be voting against",
        provider_sid="SMbrowser1",
        in_reply_to=briefing,
    )


def test_coordinator_reads_a_reply_and_marks_it_handled(reply, live_server, page, viewport_name):
    log_in(page, live_server.url, "/messages/")
    row = page.locator("#reply-table tbody tr").first
    assert "Nadia Okafor (delegate, Wirral West)" in row.inner_text()
    assert "I'll be voting against" in row.inner_text()
    assert "+447700900321" not in page.content()  # masked in the list
    shot(page, f"replies-{viewport_name}")

    row.get_by_role("link", name="History").click()
    page.wait_for_url(re.compile(r"/messages/number/in/\d+/$"))
    assert page.get_by_role("heading", name="+447700900321").is_visible()
    assert "Border Security Command" in page.content()
    shot(page, f"number-history-{viewport_name}")

    page.go_back()
    page.get_by_role("button", name="Mark handled").click()
    page.wait_for_url(re.compile(r"/messages/$"))
    assert page.get_by_text("Nothing waiting").is_visible()


@pytest.fixture
def request_to_stop(reply):
    return InboundMessage.objects.create(
        from_number=reply.from_number,
        body="Can you remove me from the Tuesday leafleting shift? And don't text me during the debates",
        provider_sid="SMbrowser2",
        in_reply_to=reply.in_reply_to,
        looks_like_opt_out=True,
    )


def test_a_reply_that_looks_like_an_opt_out_waits_first_with_a_one_tap_opt_out(
    request_to_stop, live_server, page, viewport_name
):
    log_in(page, live_server.url, "/messages/")
    assert page.get_by_text("looks like a request to stop texting").is_visible()
    first = page.locator("#reply-table tbody tr").first
    assert "Looks like an opt-out request" in first.inner_text()
    shot(page, f"replies-opt-out-request-{viewport_name}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    first.get_by_role("button", name="Opt out this number").click()
    page.wait_for_url(re.compile(r"/messages/$"))
    assert page.get_by_text("opted out: no more texts").is_visible()
    assert "Looks like an opt-out request" not in page.locator("#reply-table").inner_text()
