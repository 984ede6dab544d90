"""A volunteer on a 390x844 phone: signs up, double-submits, takes a waitlist place by text reply, cancels by the
private link, downloads the calendar file. Data is written in fixtures, before the browser starts."""

import re
import uuid

import pytest

from tests.browser.conftest import shot
from tests.messaging.core_support import (
    PUBLIC,
    sms_fixture,  # noqa: F401  (the `sms` fixture)
    twilio_signature,
)
from tests.volunteers.support import ShiftFactory, VolunteerFactory, at
from volunteers import links, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["phone"])
def viewport_name(request):
    return request.param


@pytest.fixture
def shifts(sms, conference, settings):
    settings.RATELIMIT_CACHE_PREFIX = f"test-rl:{uuid.uuid4().hex}:"  # fresh sign-up counters for this test
    open_shift = ShiftFactory(conference=conference, capacity=4, minimum=2, notes="Collect leaflets from the lead.")
    full = ShiftFactory(
        conference=conference,
        role="lobbying",
        location=open_shift.location,
        capacity=1,
        minimum=1,
        starts_at=at(28, 9),
        ends_at=at(28, 11),
    )
    holder = services.sign_up(shift=full, volunteer=VolunteerFactory(name="Holder"), source="public").signup
    waiting = services.sign_up(shift=full, volunteer=VolunteerFactory(name="Wanda Waiting"), source="public").signup
    return {
        "open": open_shift,
        "full": full,
        "holder_token": links.my_shifts_token(holder.volunteer_id),
        "holder_signup": holder.pk,
        "waiting_token": links.my_shifts_token(waiting.volunteer_id),
        "waiting_mobile": waiting.volunteer.mobile,
    }


def test_a_volunteer_signs_up_from_a_phone_and_gets_their_private_page(shifts, live_server, page):
    page.goto(f"{live_server.url}/shifts/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_text("4 places left").is_visible()
    assert page.get_by_text("Full · join the waitlist").is_visible()
    assert "Holder" not in page.content() and "Wanda" not in page.content()
    shot(page, "volunteers-shift-list-phone")

    page.locator("a.shift-card", has_text="Leafleting").click()
    page.get_by_label("Your name").fill("Asha Patel")
    page.get_by_label("Mobile number").fill("01514960000")
    page.get_by_role("button", name="Sign up").click()
    assert page.get_by_text("not a mobile number").is_visible()
    assert page.get_by_label("Your name").input_value() == "Asha Patel"  # kept
    assert page.get_by_text("Please tick the box").is_visible()
    shot(page, "volunteers-signup-errors-phone")

    page.get_by_label("Mobile number").fill("07700 900456")
    page.get_by_label(re.compile("I agree that the campaign may text me")).check()
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/shifts/me/[^/]+/$"))
    assert page.get_by_text("You're signed up").is_visible()
    assert page.get_by_text("You're on").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "volunteers-my-shifts-phone")


def test_a_double_submitted_signup_signs_up_once(shifts, live_server, page):
    page.goto(f"{live_server.url}/shifts/{shifts['open'].pk}/")
    page.get_by_label("Your name").fill("Double Tap")
    page.get_by_label("Mobile number").fill("07700 900457")
    page.get_by_label(re.compile("I agree that the campaign may text me")).check()
    # Two POSTs of the same form at once, as a double tap or a retry on a flaky network sends them.
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector("form.signup-form");
            const send = () => fetch(location.href, {method: "POST", body: new FormData(form), redirect: "manual"});
            const responses = await Promise.all([send(), send()]);
            return responses.map(r => r.type === "opaqueredirect" ? 302 : r.status);
        }"""
    )
    assert statuses == [302, 302]
    page.get_by_role("button", name="Sign up").click()  # and a third time, through the page itself
    page.wait_for_url(re.compile(r"/shifts/me/[^/]+/$"))
    assert page.locator(".shift-card").count() == 1
    page.goto(f"{live_server.url}/shifts/")
    assert page.get_by_text("3 places left").is_visible()


def test_a_waitlisted_volunteer_takes_the_place_by_replying_y(shifts, live_server, page):
    page.goto(f"{live_server.url}/shifts/me/{shifts['holder_token']}/")
    page.get_by_role("button", name="I can't make it").click()
    assert page.get_by_text("Cancelled. Thank you").is_visible()
    shot(page, "volunteers-cancelled-phone")

    page.goto(f"{live_server.url}/shifts/me/{shifts['waiting_token']}/")
    assert page.get_by_text("A place is yours if you want it").is_visible()
    shot(page, "volunteers-offer-phone")

    # The volunteer answers the offer text with Y: Twilio posts it to our signed webhook.
    params = {"MessageSid": "SM" + "c" * 32, "From": shifts["waiting_mobile"], "To": "+447700900999", "Body": "Y"}
    path = "/sms/twilio/inbound/"
    response = page.request.post(
        f"{live_server.url}{path}", form=params, headers={"X-Twilio-Signature": twilio_signature(PUBLIC + path, params)}
    )
    assert response.status == 200
    page.reload()
    assert page.get_by_text("You're on").is_visible()
    shot(page, "volunteers-offer-accepted-phone")


def test_the_calendar_file_downloads_from_the_private_page(shifts, live_server, page):
    page.goto(f"{live_server.url}/shifts/me/{shifts['holder_token']}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    download = download_info.value
    assert download.suggested_filename == "my-shifts.ics"
    with open(download.path(), encoding="utf-8") as ics:
        body = ics.read()
    assert body.startswith("BEGIN:VCALENDAR") and "SUMMARY:Lobbying delegates" in body


def test_a_tampered_private_link_shows_not_found(shifts, live_server, page):
    response = page.goto(f"{live_server.url}/shifts/me/{shifts['holder_token']}x/")
    assert response.status == 404
