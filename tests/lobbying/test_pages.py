"""Lobbying pages: who may open them, what they show, bad input kept on the form, flat query counts."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from lobbying import selectors, services
from lobbying.models import Level, Motion, MotionStatus, StanceChange, Submission
from tests.factories import DelegateFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(room, motion, conference):
    """The hand-countable room, plus a campaign motion in the pipeline and an assignment."""
    ours = services.create_motion(conference=conference, title="Ours", text="Words.", is_campaign_motion=True)
    services.start_submission(motion=ours, organisation=room["north_west"])
    assignment = services.create_assignment(
        motion=motion, volunteer_name="Val", delegates=[room["a1"], room["u2"]], ask="Vote for it."
    )
    return {**room, "ours": ours, "assignment": assignment, "token": services.assignment_token(assignment)}


def coordinator_urls(scene, motion):
    return [
        reverse("dashboard"),
        reverse("lobbying:motion-list"),
        reverse("lobbying:motion-create"),
        reverse("lobbying:composite-create"),
        reverse("lobbying:motion-detail", args=[motion.pk]),
        reverse("lobbying:motion-update", args=[motion.pk]),
        reverse("lobbying:talk-next", args=[motion.pk]),
        reverse("lobbying:stance-delegates") + f"?motion={motion.pk}&stance=against",
        reverse("lobbying:whip-live"),
        reverse("lobbying:whip-sheet"),
        reverse("lobbying:pipeline"),
        reverse("lobbying:assignment-list"),
        reverse("lobbying:assignment-create"),
        reverse("lobbying:assignment-detail", args=[scene["assignment"].pk]),
    ]


def coordinator_posts(scene, motion):
    return [
        reverse("lobbying:motion-create"),
        reverse("lobbying:composite-create"),
        reverse("lobbying:pipeline"),
        reverse("lobbying:motion-update", args=[motion.pk]),
        reverse("lobbying:motion-transition", args=[motion.pk]),
        reverse("lobbying:motion-result", args=[motion.pk]),
        reverse("lobbying:talk-next", args=[motion.pk]),
        reverse("lobbying:assignment-create"),
        reverse("lobbying:assignment-revoke", args=[scene["assignment"].pk]),
        reverse("lobbying:submission-move", args=[scene["ours"].submissions.get().pk]),
    ]


def test_every_lobbying_page_renders_for_a_coordinator(coordinator_client, scene, motion):
    for url in coordinator_urls(scene, motion):
        assert coordinator_client.get(url).status_code == 200, url


def test_anonymous_visitors_and_link_holders_are_sent_to_log_in_everywhere(client, scene, motion):
    # A link holder is an anonymous visitor who has opened their private link: it opens nothing else.
    assert client.get(reverse("lobbying:volunteer-link", args=[scene["token"]])).status_code == 200
    for url in coordinator_urls(scene, motion) + coordinator_posts(scene, motion):
        response = client.get(url) if url in coordinator_urls(scene, motion) else client.post(url, {"level": "for"})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    assert not StanceChange.objects.filter(source="conversation").exists()


def test_logged_in_non_coordinators_are_refused_everywhere(outsider_client, scene, motion):
    for url in coordinator_urls(scene, motion):
        assert outsider_client.get(url).status_code == 403, url
    for url in coordinator_posts(scene, motion):
        assert outsider_client.post(url, {"level": "for", "delegate": scene["a1"].pk}).status_code == 403, url
    assert scene["assignment"].revoked_at is None
    assert Motion.objects.count() == 2


def test_the_dashboard_shows_the_whip_count_with_links_to_each_cell(coordinator_client, scene, motion):
    html = coordinator_client.get(reverse("dashboard")).content.decode()
    assert "Whip count" in html
    assert "31.3%" in html  # against: 31.25 points of the conference vote (rounded half up)
    assert f"/lobbying/stances/?motion={motion.pk}&amp;stance=against&amp;section=affiliates" in html
    assert 'data-live-url="/lobbying/whip/live/"' in html


def test_the_dashboard_as_of_a_past_moment_stops_updating_and_shows_then(coordinator_client, scene, motion):
    then = timezone.localtime(scene["now"] - dt.timedelta(days=1), timezone=dt.UTC)
    # The field is read in the conference's time zone (Europe/London).
    from zoneinfo import ZoneInfo

    local = then.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")
    html = coordinator_client.get(reverse("dashboard"), {"as_of": local}).content.decode()
    assert "not updating" in html
    assert "data-live-url" not in html
    assert "50.0%" in html  # unknown a day ago: both union delegates


def test_a_bad_as_of_shows_the_error_and_the_live_count(coordinator_client, scene):
    response = coordinator_client.get(reverse("dashboard"), {"as_of": "yesterday-ish"})
    assert response.status_code == 200
    assert "Enter a valid date/time." in response.content.decode()
    future = (timezone.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert (
        "Choose a moment in the past"
        in coordinator_client.get(reverse("dashboard"), {"as_of": future}).content.decode()
    )


def test_the_live_fragment_changes_when_a_stance_is_recorded(coordinator_client, scene, motion):
    url = reverse("lobbying:whip-live")
    before = coordinator_client.get(url).content.decode()
    services.record_stance(delegate=scene["u2"], motion=motion, level=Level.FOR, source="coordinator")
    after = coordinator_client.get(url).content.decode()
    assert before != after
    assert re.search(r'data-cell="for">31\.3', after)  # 6.25 + 25


def test_the_cached_panels_follow_every_change_their_numbers_depend_on(coordinator_client, scene, motion):
    """The rendered panels are cached per watermark: a delegate, organisation or motion edit, or a new minute,
    must each give fresh panels, and an unchanged request the cached ones."""
    url = reverse("lobbying:whip-live")
    first = coordinator_client.get(url).content.decode()
    assert coordinator_client.get(url).content.decode() == first

    scene["u2"].is_attending = False  # one affiliate delegate fewer: the rest carry the union's vote
    scene["u2"].save()
    absent = coordinator_client.get(url).content.decode()
    assert absent != first

    london = scene["london"]  # a bigger CLP: a bigger share of the CLP section
    london.membership *= 3
    london.save()
    bigger = coordinator_client.get(url).content.decode()
    assert bigger != absent

    Motion.objects.filter(pk=motion.pk).update(position="oppose", updated_at=timezone.now())
    assert "We oppose" in coordinator_client.get(url).content.decode()

    later = timezone.now() + dt.timedelta(minutes=1)
    with (
        mock.patch("config.caching.timezone.now", return_value=later),
        mock.patch("lobbying.whip_panels.selectors.whip_panels", wraps=selectors.whip_panels) as computed,
    ):
        coordinator_client.get(url)
    assert computed.call_count == 1  # a new minute: "since yesterday" moved, so the panels were computed again


def test_the_stance_list_filters_by_stance_and_section(coordinator_client, scene, motion):
    url = reverse("lobbying:stance-delegates")
    html = coordinator_client.get(
        url, {"motion": motion.pk, "stance": "against", "section": "affiliates"}
    ).content.decode()
    assert "Uma Five" in html and "Alf Two" not in html
    html = coordinator_client.get(
        url, {"motion": motion.pk, "stance": "unknown", "is_attending": "true"}
    ).content.decode()
    assert "Uri Six" in html and "Bo Four" not in html


def test_a_motion_form_over_the_word_limit_keeps_the_text_and_says_by_how_much(coordinator_client, conference):
    text = "word " * 251
    response = coordinator_client.post(
        reverse("lobbying:motion-create"),
        {"title": "Too long", "text": text, "kind": "contemporary", "position": "support"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "251 of 250 words: shorten the text." in html
    assert 'data-word-limit="250"' in html
    assert "word word word" in html
    assert not Motion.objects.filter(title="Too long").exists()


def test_an_impossible_transition_from_the_page_is_refused_with_the_reason(coordinator_client, motion):
    url = reverse("lobbying:motion-transition", args=[motion.pk])
    response = coordinator_client.post(url, {"to_status": "ruled_out"})
    assert response.status_code == 400
    assert "A motion that is draft cannot become ruled out of order." in response.content.decode()
    response = coordinator_client.post(url, {"to_status": "submitted"})
    assert response.status_code == 302
    motion.refresh_from_db()
    assert motion.status == MotionStatus.SUBMITTED
    response = coordinator_client.post(url, {"to_status": "ruled_out"})
    assert "Give the reason it is ruled out of order." in response.content.decode()


def test_a_result_is_entered_beside_the_projection(coordinator_client, motion):
    for step in ("submitted", "ruled_in", "prioritised"):
        services.transition_motion(motion=motion, to_status=step)
    services.transition_motion(motion=motion, to_status="scheduled", scheduled_for=timezone.now())
    url = reverse("lobbying:motion-result", args=[motion.pk])
    bad = {"method": "card", "clp_for": 60, "clp_against": 30, "affiliates_for": 50, "affiliates_against": 50,
           "total_for": 55, "total_against": 45}  # fmt: skip
    response = coordinator_client.post(url, bad)
    assert response.status_code == 400
    assert "For and against must add up to 100%." in response.content.decode()
    response = coordinator_client.post(url, {**bad, "clp_against": 40})
    assert response.status_code == 302
    motion.refresh_from_db()
    assert motion.status == MotionStatus.CARRIED
    assert "result <strong>55.00%</strong>" in coordinator_client.get(motion.get_absolute_url()).content.decode()


def test_one_tap_records_a_conversation_from_who_to_talk_to(coordinator_client, coordinator, scene, motion):
    url = reverse("lobbying:talk-next", args=[motion.pk])
    assert "Uri Six" in coordinator_client.get(url).content.decode()
    response = coordinator_client.post(url, {"delegate": scene["u2"].pk, "level": "leaning_for", "note": "Warm"})
    assert response.status_code == 302
    change = StanceChange.objects.latest("at", "pk")
    assert (change.delegate, change.level, change.source, change.recorded_by) == (
        scene["u2"],
        "leaning_for",
        "conversation",
        coordinator,
    )
    assert coordinator_client.post(url, {"delegate": 999999, "level": "for"}).status_code == 400


def test_the_pipeline_counts_stages_and_filters_by_region(coordinator_client, scene):
    ours = scene["ours"]
    london = OrganisationFactory(name="Camden", region="London")
    submission = services.start_submission(motion=ours, organisation=london)
    services.move_submission(submission=submission, stage=Submission.Stage.CLP_MEETING)
    html = coordinator_client.get(reverse("lobbying:pipeline"), {"motion": ours.pk}).content.decode()
    assert "2 organisations" in html
    html = coordinator_client.get(
        reverse("lobbying:pipeline"), {"motion": ours.pk, "region": "London"}
    ).content.decode()
    assert "1 organisation in London" in html and "Camden" in html and "Wirral West" not in html


def test_the_volunteer_page_shows_only_names_organisations_and_the_ask(client, scene, motion):
    scene["a1"].mobile = "+447700900111"
    scene["a1"].save()
    url = reverse("lobbying:volunteer-link", args=[scene["token"]])
    html = client.get(url).content.decode()
    assert "Ada One" in html and "Uri Six" in html and "Vote for it." in html
    assert "Bea Three" not in html  # not on the list
    assert "900111" not in html and "+44" not in html  # no phone numbers
    assert "Leaning for" in html  # the buttons, but no stance of anyone is shown as a fact
    assert "For</span>" not in html.split('id="my-delegates"')[0]
    assert "card vote" not in html.lower()


def test_the_volunteer_link_records_a_conversation_and_refuses_other_delegates(client, scene, motion):
    url = reverse("lobbying:volunteer-link", args=[scene["token"]])
    assert client.post(url, {"delegate": scene["u2"].pk, "level": "for"}).status_code == 302
    change = StanceChange.objects.latest("at", "pk")
    assert (change.delegate, change.source, change.recorded_by_name) == (scene["u2"], "conversation", "Val")
    response = client.post(url, {"delegate": scene["b1"].pk, "level": "for"})
    assert response.status_code == 400
    assert "This delegate is not on your list." in response.content.decode()


def test_a_tampered_or_revoked_link_is_a_404_that_writes_nothing(client, scene):
    url = reverse("lobbying:volunteer-link", args=[scene["token"][:-3] + "abc"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"delegate": scene["a1"].pk, "level": "for"}).status_code == 404
    services.revoke_assignment(assignment=scene["assignment"])
    url = reverse("lobbying:volunteer-link", args=[scene["token"]])
    response = client.post(url, {"delegate": scene["a1"].pk, "level": "for"})
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert not StanceChange.objects.filter(source="conversation").exists()


def test_a_coordinator_makes_an_assignment_and_gets_a_working_link(coordinator_client, client, scene, motion):
    response = coordinator_client.post(
        reverse("lobbying:assignment-create"),
        {"motion": motion.pk, "volunteer_name": "Kit", "volunteer_mobile": "07700 900555",
         "ask": "Vote for.", "delegates": [scene["u2"].pk]},
    )  # fmt: skip
    assert response.status_code == 302
    html = coordinator_client.get(response["Location"]).content.decode()
    link = re.search(r'id="private-link">http://testserver([^<]+)<', html).group(1)
    assert client.get(link).status_code == 200
    bad = coordinator_client.post(reverse("lobbying:assignment-create"), {"motion": motion.pk, "volunteer_name": ""})
    assert bad.status_code == 400


def test_the_whip_sheet_lists_the_days_agenda_with_the_recommendation(coordinator_client, conference, motion):
    other = DelegateFactory(conference=conference)
    services.record_stance(delegate=other, motion=motion, level="for", source="coordinator")
    for step in ("submitted", "ruled_in", "prioritised"):
        services.transition_motion(motion=motion, to_status=step)
    slot = dt.datetime(2027, 9, 28, 11, 0, tzinfo=dt.UTC)
    services.transition_motion(motion=motion, to_status="scheduled", scheduled_for=slot)
    html = coordinator_client.get(reverse("lobbying:whip-sheet"), {"day": "2027-09-28"}).content.decode()
    assert "Vote FOR" in html and str(motion) in html
    html = coordinator_client.get(reverse("lobbying:whip-sheet"), {"day": "2027-09-27"}).content.decode()
    assert "No motions on the agenda this day." in html
    assert coordinator_client.get(reverse("lobbying:whip-sheet"), {"day": "nonsense"}).status_code == 200


def test_a_submission_moves_on_from_the_pipeline_page_and_an_impossible_move_is_refused(coordinator_client, scene):
    submission = scene["ours"].submissions.get()
    url = reverse("lobbying:submission-move", args=[submission.pk])
    response = coordinator_client.post(url, {"stage": "clp_meeting", "next": "?stage=clp_meeting"}, follow=True)
    assert "moved on" in response.content.decode()
    assert response.redirect_chain[-1][0].endswith("/lobbying/pipeline/?stage=clp_meeting")
    response = coordinator_client.post(url, {"stage": "confirmed", "next": "https://evil.example/"}, follow=True)
    assert "cannot move to confirmed" in response.content.decode()
    assert response.redirect_chain[-1][0] == "/lobbying/pipeline/"
    submission.refresh_from_db()
    assert submission.stage == "clp_meeting"


@pytest.fixture
def prioritised(conference):
    from lobbying.models import Subject

    housing = Subject.objects.create(conference=conference, name="Housing")
    health = Subject.objects.create(conference=conference, name="Health")
    motions = {}
    for name, subject in (("homes_a", housing), ("homes_b", housing), ("nhs", health)):
        m = services.create_motion(conference=conference, title=name, text="Words.", subject=subject)
        for status in (MotionStatus.SUBMITTED, MotionStatus.RULED_IN, MotionStatus.PRIORITISED):
            services.transition_motion(motion=m, to_status=status)
        motions[name] = m
    return motions


def test_a_coordinator_makes_a_composite_with_its_mover_and_seconder(coordinator_client, prioritised):
    mover, seconder = OrganisationFactory(name="Unite"), OrganisationFactory(name="Leeds Central")
    response = coordinator_client.post(
        reverse("lobbying:composite-create"),
        {
            "motions": [prioritised["homes_a"].pk, prioritised["homes_b"].pk],
            "number": 4,
            "title": "Council housing",
            "text": "Conference calls for 150,000 council homes a year.",
            "mover": mover.pk,
            "seconder": seconder.pk,
        },
    )
    composite = Motion.objects.get(composite_number=4)
    assert response.status_code == 302 and response.url == composite.get_absolute_url()
    assert (composite.mover, composite.seconder, composite.subject.name) == (mover, seconder, "Housing")
    assert set(composite.merged_motions.values_list("status", flat=True)) == {MotionStatus.COMPOSITED}


def test_a_composite_across_subjects_or_with_a_taken_number_shows_the_errors_and_keeps_the_typing(
    coordinator_client, prioritised
):
    url = reverse("lobbying:composite-create")
    body = {
        "motions": [prioritised["homes_a"].pk, prioritised["nhs"].pk],
        "number": 5,
        "title": "Mixed bag",
        "text": "Typed with care.",
    }
    response = coordinator_client.post(url, body)
    assert response.status_code == 400
    page = response.content.decode()
    assert "A composite merges motions of one subject." in page
    assert "Typed with care." in page and 'value="Mixed bag"' in page
    assert not Motion.objects.filter(composite_number=5).exists()

    same = OrganisationFactory()
    response = coordinator_client.post(url, {**body, "motions": [prioritised["nhs"].pk], "mover": same.pk,
                                             "seconder": same.pk})  # fmt: skip
    assert response.status_code == 400
    assert "The seconder must be another organisation than the mover." in response.content.decode()

    response = coordinator_client.post(url, {**body, "motions": [999999], "number": "x"})
    assert response.status_code == 400
    assert not Motion.objects.filter(kind=Motion.Kind.COMPOSITE).exists()


def test_a_coordinator_adds_an_organisation_to_the_pipeline_from_the_page(coordinator_client, scene):
    ours = scene["ours"]
    camden = OrganisationFactory(name="Camden", region="London")
    url = reverse("lobbying:pipeline") + f"?motion={ours.pk}"
    assert "Camden" in coordinator_client.get(url).content.decode()
    response = coordinator_client.post(url, {"organisation": camden.pk, "local_contact": "Sam, secretary"})
    assert response.status_code == 302
    submission = ours.submissions.get(organisation=camden)
    assert (submission.stage, submission.local_contact) == (Submission.Stage.CONTACTED, "Sam, secretary")
    assert submission.stage_changes.count() == 1
    # Once in, it is no longer offered; posting it again is refused on the field, nothing written.
    response = coordinator_client.post(url, {"organisation": camden.pk, "notes": "Second try"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page and "Second try" in page
    assert ours.submissions.filter(organisation=camden).count() == 1


def test_a_bad_meeting_date_on_the_pipeline_form_is_shown_and_the_typing_kept(coordinator_client, scene):
    lambeth = OrganisationFactory(name="Lambeth")
    url = reverse("lobbying:pipeline") + f"?motion={scene['ours'].pk}"
    response = coordinator_client.post(url, {"organisation": lambeth.pk, "local_contact": "Jo", "meeting_on": "soon"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid date." in page and 'value="Jo"' in page
    assert not scene["ours"].submissions.filter(organisation=lambeth).exists()
