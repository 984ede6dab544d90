"""A coordinator at a desk: the rota with its gaps, one shift's people, and checking volunteers in."""

import re

import pytest

from tests.browser.conftest import PASSWORD, log_in, shot
from tests.factories import CoordinatorFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)
from tests.volunteers.support import ShiftFactory, VolunteerFactory, at
from volunteers import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["desktop"])
def viewport_name(request):
    return request.param


@pytest.fixture
def rota(sms, conference):
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    short = ShiftFactory(conference=conference, capacity=5, minimum=3)
    full = ShiftFactory(
        conference=conference,
        role="stall",
        location=short.location,
        capacity=2,
        minimum=1,
        starts_at=at(27, 13),
        ends_at=at(27, 16),
    )
    services.sign_up(shift=short, volunteer=VolunteerFactory(name="Priya Singh"), source="public")
    for name in ("Owen Hughes", "Nia Morgan", "Sam Quinn"):
        services.sign_up(shift=full, volunteer=VolunteerFactory(name=name), source="public")
    return {"short": short, "full": full}


def test_coordinator_sees_gaps_on_the_rota_and_checks_volunteers_in(rota, live_server, page):
    log_in(page, live_server.url, "/shifts/rota/?day=2027-09-27")
    gap_row = page.locator("tr.is-gap")
    assert gap_row.count() == 1 and "Leafleting" in gap_row.inner_text() and "1 of 5" in gap_row.inner_text()
    assert "2 of 2" in page.locator("tbody tr").nth(1).inner_text()
    assert page.get_by_text("Shifts short of their minimum").is_visible()
    shot(page, "volunteers-rota-desktop")

    page.get_by_role("link", name="Staffing the stall").click()
    page.wait_for_url(re.compile(r"/shifts/rota/\d+/$"))
    assert page.get_by_role("link", name="Sam Quinn").is_visible()  # on the waitlist
    shot(page, "volunteers-shift-manage-desktop")

    page.get_by_role("link", name="Check-in").first.click()
    page.wait_for_url(re.compile(r"/check-in/$"))
    row = page.locator(".checkin-row", has_text="Owen Hughes")
    row.get_by_role("button", name="Here").click()
    page.wait_for_url(re.compile(r"/check-in/$"))
    assert "Attended" in page.locator(".checkin-row", has_text="Owen Hughes").inner_text()
    page.locator(".checkin-row", has_text="Nia Morgan").get_by_role("button", name="No-show").click()
    page.wait_for_url(re.compile(r"/check-in/$"))
    assert "No-show" in page.locator(".checkin-row", has_text="Nia Morgan").inner_text()
    shot(page, "volunteers-check-in-desktop")
