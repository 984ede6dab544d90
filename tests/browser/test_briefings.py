"""A briefing in Chromium, end to end: compose with the live segment counter, preview three real texts, send to a
few hundred demo delegates through a real Celery worker against the fake Twilio, watch the bar reach 100%
without a reload, read the report (a failure explained) and see a delegate's reply "FOR" arrive in it.
Screenshots land in test-output/screenshots/.

Data is written in fixtures before the browser starts (see conftest); during the test only the page, the worker,
the fake Twilio and the inbound webhook act, and the checks read the page and what the fake Twilio received.
"""

import io
import re

import pytest
from django.conf import settings
from django.core.management import call_command

from delegates.models import Conference, Delegate, Organisation
from lobbying.models import Motion
from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory
from tests.messaging.core_support import twilio_signature

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

BODY = "Hi {first_name}, Composite 3 is up after lunch: please vote FOR."


def _fits_the_screen(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    conference = Conference.current()
    audience = Delegate.objects.for_conference(conference).textable().filter(organisation__kind=Organisation.Kind.CLP)
    mobiles = list(audience.order_by("pk").values_list("mobile", flat=True))
    replier = audience.order_by("pk").first()
    return {
        "replier": f"{replier.first_name} {replier.last_name}",
        "motion": Motion.objects.get(conference=conference, composite_number=3),
        "mobiles": mobiles,
        "invalid": mobiles[len(mobiles) // 2],  # the fake Twilio answers 21211 for this one
    }


@pytest.mark.parametrize("viewport_name", ["desktop"])
def test_a_coordinator_composes_previews_sends_and_watches_a_briefing_land(
    demo, drill, live_server, page, viewport_name
):  # fmt: skip
    count = len(demo["mobiles"])
    assert 200 <= count <= 900, f"the demo's CLP audience should be a few hundred, is {count}"
    drill.twilio.answer_for(demo["invalid"], "21211")
    failed_requests = []
    page.on("response", lambda r: r.status >= 400 and failed_requests.append(f"{r.status} {r.url}"))

    log_in(page, live_server.url, "/lobbying/briefings/new/")
    body = page.get_by_label("Text")
    body.fill(BODY.replace("{first_name}", ""))
    page.locator("#id_body").press("End")
    # A merge field goes in at the cursor from its button.
    page.locator("#id_body").evaluate("b => b.setSelectionRange(3, 3)")
    page.locator('[data-merge-field="first_name"]').click()
    assert body.input_value() == BODY
    counter = page.locator("#id_body_count")
    assert re.search(r"\d+ characters · 1 of 3 segments \(GSM-7\)", counter.inner_text())
    page.get_by_label("Motion").select_option(label=str(demo["motion"]))
    page.get_by_label("Constituency parties").check()
    shot(page, f"briefing-compose-{viewport_name}")
    _fits_the_screen(page)
    page.get_by_role("button", name="Save and preview").click()

    page.wait_for_url(re.compile(r"/lobbying/briefings/\d+/$"))
    assert page.locator("#preview-count").inner_text() == str(count)
    examples = page.locator(".sms-bubble")
    assert examples.count() == 3
    # A demo delegate we never texted: their first campaign text also links the privacy notice.
    first = examples.first.inner_text()
    assert "please vote FOR.\nReply STOP to opt out\nPrivacy: " in first and first.endswith("/privacy/")
    shot(page, f"briefing-preview-{viewport_name}")
    _fits_the_screen(page)

    with drill.workers("briefing", rate=300):
        page.get_by_text("Send…").click()
        page.get_by_role("button", name=f"Send to {count} delegates now").click()
        page.wait_for_url(re.compile(r"/lobbying/briefings/\d+/$"))
        assert f"Sending to {count} delegates" in page.locator(".flashes").inner_text()
        page.evaluate("window.__marker = 'still the same page'")
        page.wait_for_function(
            "() => document.querySelector('#percent-done').textContent.trim() === '100%'", timeout=120_000
        )
        assert page.evaluate("window.__marker") == "still the same page"  # the bar filled without a reload

    # Once nothing is left to send the page fetches the report: the invalid number, explained.
    report = page.locator("#report")
    report.get_by_text("Not a valid phone number.").first.wait_for()
    assert page.locator('[data-count="failed"]').inner_text() == "1"
    assert page.locator('[data-count="sent"]').inner_text() == str(count - 1)
    assert page.evaluate("window.__marker") == "still the same page"
    shot(page, f"briefing-sent-{viewport_name}")
    _fits_the_screen(page)

    sends = drill.twilio.sends_per_recipient()
    assert set(sends) == set(demo["mobiles"]) and max(sends.values()) == 1, "each delegate texted exactly once"

    # A delegate answers "FOR": Twilio posts it to our inbound webhook, and the page shows the reply, still
    # without a reload.
    params = {"From": demo["mobiles"][0], "To": "+447700900999", "Body": "FOR", "MessageSid": "SM" + "b" * 32}
    url = f"{settings.PUBLIC_BASE_URL}/sms/twilio/inbound/"
    signature = twilio_signature(url, params, token=settings.TWILIO_AUTH_TOKEN)
    answer = page.request.post(
        f"{live_server.url}/sms/twilio/inbound/", form=params, headers={"X-Twilio-Signature": signature}
    )
    assert answer.ok, answer.text()
    page.wait_for_function("() => document.querySelector('[data-count=\"replied\"]').textContent.trim() === '1'")
    replies = page.locator(".reply-list")
    replies.get_by_text(demo["replier"]).wait_for()
    assert "FOR" in replies.inner_text()
    assert page.evaluate("window.__marker") == "still the same page"
    shot(page, f"briefing-replied-{viewport_name}")

    # The reply is a proposed stance: the coordinator accepts it with one tap.
    page.goto(f"{live_server.url}/lobbying/proposals/")
    proposal = page.locator("[data-proposal]", has_text=demo["replier"])
    assert "FOR" in proposal.inner_text()
    proposal.get_by_role("button", name="Accept").click()
    page.get_by_text(f"Recorded: {demo['replier']} is for on {demo['motion']}.").wait_for()
    shot(page, f"briefing-reply-accepted-{viewport_name}")
    assert failed_requests == []
