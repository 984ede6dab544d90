"""Lobbying in Chromium: the dashboard's whip count updating live, the motion form's word counter, the pipeline,
and a volunteer's private link on a 390-px phone. Screenshots land in test-output/screenshots/.

Data is written in fixtures before the browser starts (see conftest); during the test, changes go through the
API with a token, as another coordinator's phone would make them.
"""

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from knox.models import AuthToken

from delegates.models import Conference, Delegate
from lobbying import selectors, services
from lobbying.models import Level, Motion
from tests.browser.conftest import PASSWORD, SCREENSHOTS, VIEWPORTS, log_in, shot
from tests.factories import CoordinatorFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits_the_screen(page):
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    coordinator = CoordinatorFactory(username="coordinator", password=PASSWORD)
    conference = Conference.current()
    composite = Motion.objects.get(conference=conference, composite_number=3)
    # An affiliate delegate not yet for it: one stance moves the affiliates' "for" count by one. The biggest card
    # vote, so they head the stance list (ordered by card vote, 50 a page) the cell opens, whatever the seed gave.
    delegate = (
        selectors.delegates_with_stance(
            motion=composite, levels=["undecided", "leaning_for", "leaning_against", "against", "unknown"]
        )
        .attending()
        .exclude(organisation__kind="clp")
        .with_card_vote()
        .order_by("-card_vote", "pk")
        .first()
    )
    return {
        "motion": composite,
        "delegate": delegate,
        "token": AuthToken.objects.create(user=coordinator)[1],
    }


def test_the_dashboard_whip_count_updates_without_a_reload(demo, live_server, page, viewport_name):
    log_in(page, live_server.url, "/")
    panel = page.locator(f"#whip-{demo['motion'].pk}")
    assert panel.get_by_role("heading", name=re.compile("Composite 3")).is_visible()
    cell = panel.locator('[data-cell="for-affiliates"]')
    before = int(cell.text_content())  # folded away on a phone: read it anyway
    shot(page, f"lobbying-dashboard-{viewport_name}")
    page.locator("#whip-title").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"lobbying-dashboard-whip-{viewport_name}.png"))
    _fits_the_screen(page)
    page.evaluate("window.__marker = 'still the same page'")

    response = page.request.post(
        f"{live_server.url}/api/stance-changes/",
        data={"delegate": demo["delegate"].pk, "motion": demo["motion"].pk, "level": "for"},
        headers={"Authorization": f"Token {demo['token']}"},
    )
    assert response.status == 201, response.text()

    page.wait_for_function(
        "([selector, before]) => parseInt(document.querySelector(selector).textContent) === before + 1",
        arg=[f'#whip-{demo["motion"].pk} [data-cell="for-affiliates"]', before],
        timeout=15_000,
    )
    assert page.evaluate("window.__marker") == "still the same page"  # no reload happened
    assert "updated" in page.locator("[data-live-status]").inner_text()
    # Every cell opens the delegates behind it.
    panel = page.locator(f"#whip-{demo['motion'].pk}")
    if viewport_name == "phone":  # the table by section is folded on a phone
        panel.get_by_text("By section").click()
    panel.locator('[data-cell="for-affiliates"]').click()
    page.wait_for_url(re.compile(r"/lobbying/stances/\?.*stance=for"))
    assert demo["delegate"].last_name in page.locator("#stance-table").inner_text()
    shot(page, f"lobbying-stances-{viewport_name}")
    _fits_the_screen(page)


@pytest.fixture
def coordinator(db):
    from tests.factories import ConferenceFactory

    ConferenceFactory()
    return CoordinatorFactory(username="coordinator", password=PASSWORD)


def test_the_motion_form_counts_words_as_you_type_and_the_server_agrees(coordinator, live_server, page, viewport_name):
    log_in(page, live_server.url, "/lobbying/motions/new/")
    page.get_by_label("Title").fill("Scrap the two-child limit")
    text = page.get_by_label("Text")
    text.fill("word " * 250)
    counter = page.locator("#id_text_words")
    assert counter.inner_text() == "250 of 250 words"
    text.press("End")
    text.type(" one")
    assert counter.inner_text() == "251 of 250 words"
    assert "word-count-over" in counter.get_attribute("class")
    shot(page, f"lobbying-motion-form-{viewport_name}")
    _fits_the_screen(page)
    page.get_by_role("button", name="Save motion").click()
    page.wait_for_load_state()
    assert page.get_by_text("251 of 250 words: shorten the text.").is_visible()
    assert page.get_by_label("Text").input_value().strip().endswith("one")  # what was typed is kept
    assert page.get_by_label("Title").input_value() == "Scrap the two-child limit"
    page.get_by_label("Text").fill("Conference calls for the two-child limit to go.")
    page.get_by_role("button", name="Save motion").click()
    page.wait_for_url(re.compile(r"/lobbying/motions/\d+/$"))
    assert page.locator("#motion-status").inner_text() == "Draft"
    page.get_by_role("button", name="Mark submitted").click()
    page.wait_for_load_state()
    assert page.locator("#motion-status").inner_text() == "Submitted"
    shot(page, f"lobbying-motion-detail-{viewport_name}")
    _fits_the_screen(page)


@pytest.fixture
def pipeline(coordinator):
    conference = Conference.current()
    ours = services.create_motion(conference=conference, title="Ours", text="Words.", is_campaign_motion=True)
    for n in range(5):
        services.start_submission(
            motion=ours, organisation=OrganisationFactory(name=f"London CLP {n}", region="London")
        )
    for n in range(3):
        s = services.start_submission(
            motion=ours, organisation=OrganisationFactory(name=f"Welsh CLP {n}", region="Wales")
        )
        services.move_submission(submission=s, stage="clp_meeting")
    return ours


def test_the_pipeline_counts_stages_and_filters_by_region(pipeline, live_server, page, viewport_name):
    log_in(page, live_server.url, "/lobbying/pipeline/")
    assert "8 organisations" in page.locator("#stages-title").inner_text()
    assert page.locator('[data-stage="contacted"] .bar-value').inner_text() == "5"
    assert page.locator('[data-stage="clp_meeting"] .bar-value').inner_text() == "3"
    shot(page, f"lobbying-pipeline-{viewport_name}")
    _fits_the_screen(page)
    page.get_by_label("Region", exact=True).select_option("Wales")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"region=Wales"))
    assert "3 organisations in Wales" in page.locator("#stages-title").inner_text()
    page.get_by_role("link", name="CLP / GC meeting").click()
    page.wait_for_url(re.compile(r"stage=clp_meeting"))
    assert "Welsh CLP 0" in page.get_by_role("table").inner_text()


@pytest.fixture
def assignment(db):
    demo_conference = Conference.objects.create(
        name="Labour Party Conference 2027",
        slug="lab27",
        starts_on=dt.date(2027, 9, 26),
        ends_on=dt.date(2027, 9, 29),
        is_current=True,
    )
    coordinator = CoordinatorFactory(username="coordinator", password=PASSWORD)
    org = OrganisationFactory(name="Wirral West", region="North West")
    people = [
        Delegate.objects.create(conference=demo_conference, organisation=org, first_name=f, last_name=last,
                                mobile=f"+44770090012{n}")
        for n, (f, last) in enumerate([("Ada", "Lovelace"), ("Grace", "Hopper")])
    ]  # fmt: skip
    motion = services.create_motion(
        conference=demo_conference, title="Scrap the two-child limit", text="Words.", position="support"
    )
    services.record_stance(delegate=people[1], motion=motion, level=Level.AGAINST, source="coordinator")
    a = services.create_assignment(
        motion=motion, volunteer_name="Sam", delegates=people, ask="Vote FOR the two-child limit motion on Tuesday."
    )
    return {"token": services.assignment_token(a), "pk": a.pk, "coordinator": coordinator}


def test_a_volunteer_records_a_conversation_on_a_phone_through_their_link(assignment, live_server, browser):
    context = browser.new_context(viewport=VIEWPORTS["phone"], is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/lobbying/v/{assignment['token']}/")
        assert page.get_by_role("heading", name="Hi Sam").is_visible()
        assert "Vote FOR the two-child limit motion" in page.locator(".ask").inner_text()
        body = page.locator("body").inner_text()
        assert "Ada Lovelace" in body and "Wirral West" in body
        assert "+44" not in body and "07700" not in body  # no phone numbers
        # No stances, not even their own delegates' (Grace is recorded against): only the buttons to record one.
        assert page.locator(".stance").count() == 0 and "Now:" not in body
        assert page.get_by_role("link", name="Delegates").count() == 0  # no coordinator navigation
        shot(page, "lobbying-volunteer-link-phone")
        _fits_the_screen(page)

        ada = page.locator(".person", has_text="Ada Lovelace")
        ada.get_by_label("Note about Ada Lovelace").fill("Will speak to her delegation")
        ada.get_by_role("button", name="Leaning for").click()
        page.wait_for_load_state()
        assert page.get_by_text("Thanks: recorded.").is_visible()
        shot(page, "lobbying-volunteer-link-recorded-phone")

        # The coordinator sees it, as a conversation.
        coordinator = browser.new_context(viewport=VIEWPORTS["desktop"])
        check = coordinator.new_page()
        log_in(check, live_server.url, f"/lobbying/assignments/{assignment['pk']}/")
        assert "Ada Lovelace, Wirral West: Leaning for" in " ".join(check.locator("main").inner_text().split())
        coordinator.close()

        # A tampered link opens nothing.
        page.goto(f"{live_server.url}/lobbying/v/{assignment['token'][:-2]}xx/")
        assert page.get_by_role("heading", name="This link does not work").is_visible()
    finally:
        context.close()


@pytest.fixture
def compositing(db):
    """The demo, plus three prioritised motions waiting for the compositing meeting (two on housing)."""
    from lobbying.models import MotionStatus, Subject

    call_command("seed_demo", stdout=io.StringIO())
    CoordinatorFactory(username="coordinator", password=PASSWORD)
    conference = Conference.current()
    housing = Subject.objects.get(conference=conference, name="Housing")
    defence = Subject.objects.get(conference=conference, name="Defence")
    for title, subject in (("Rent controls now", housing), ("End no-fault evictions", housing), ("Arms", defence)):
        motion = services.create_motion(conference=conference, title=title, text="Words.", subject=subject)
        for status in (MotionStatus.SUBMITTED, MotionStatus.RULED_IN, MotionStatus.PRIORITISED):
            services.transition_motion(motion=motion, to_status=status)
    OrganisationFactory(name="Acorn Union")
    return conference


def test_the_motion_list_shows_the_whip_count_per_subject(compositing, live_server, page, viewport_name):
    log_in(page, live_server.url, "/lobbying/motions/")
    section = page.locator("#subject-whip")
    assert section.get_by_role("heading", name="Social security").is_visible()
    assert section.locator("[data-projected]").count() >= 3
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"lobbying-subject-whip-{viewport_name}.png"))
    _fits_the_screen(page)


@pytest.mark.parametrize("viewport_name", ["desktop"])
def test_a_coordinator_makes_a_composite_and_a_mixed_one_is_refused(compositing, live_server, page, viewport_name):
    log_in(page, live_server.url, "/lobbying/motions/composite/new/")
    page.get_by_label("Housing: Rent controls now").check()
    page.get_by_label("Defence: Arms").check()
    page.get_by_label("Composite number").fill("8")
    page.get_by_label("Title").fill("Homes for all")
    page.get_by_label("Text").fill("Conference calls for rent controls and an end to no-fault evictions.")
    page.get_by_label("Mover").select_option(label="Acorn Union")
    page.get_by_role("button", name="Make the composite").click()
    assert page.get_by_text("A composite merges motions of one subject.").is_visible()
    assert page.get_by_label("Title").input_value() == "Homes for all"  # what was typed is kept
    shot(page, "lobbying-composite-error-desktop")

    page.get_by_label("Defence: Arms").uncheck()
    page.get_by_label("Housing: End no-fault evictions").check()
    page.get_by_role("button", name="Make the composite").click()
    page.wait_for_url(re.compile(r"/lobbying/motions/\d+/$"))
    assert page.get_by_role("heading", name="Composite 8: Homes for all").is_visible()
    shot(page, "lobbying-composite-made-desktop")


@pytest.fixture
def newcomer(pipeline):
    return OrganisationFactory(name="Cardiff North CLP", region="Wales")


def test_a_coordinator_adds_an_organisation_to_the_pipeline(newcomer, live_server, page, viewport_name):
    log_in(page, live_server.url, "/lobbying/pipeline/")
    form = page.locator("#add-submission")
    form.get_by_label("Organisation").select_option(label="Cardiff North CLP")
    form.get_by_label("Local contact").fill("Rhys, secretary")
    form.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"lobbying-pipeline-add-{viewport_name}.png"))
    _fits_the_screen(page)
    form.get_by_role("button", name="Add to the pipeline").click()
    page.wait_for_load_state()
    assert "Cardiff North CLP: added to the pipeline." in page.content()
    assert "9 organisations" in page.locator("#stages-title").inner_text()
    assert page.locator('[data-stage="contacted"] .bar-value').inner_text() == "6"
