"""The lobbying API: coordinators only, writes through the services, 400 with per-field messages for bad input."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from lobbying import services
from lobbying.models import Motion, StanceChange, Subject
from tests.factories import ConferenceFactory, DelegateFactory, OrganisationFactory, UnionFactory

pytestmark = pytest.mark.django_db


def test_a_coordinator_records_a_stance_through_the_api(api_client, coordinator, room, motion):
    response = api_client.post(
        "/api/stance-changes/",
        {"delegate": room["u2"].pk, "motion": motion.pk, "level": "leaning_for", "note": "At the fringe"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["level"], body["source"], body["recorded_by"]) == ("leaning_for", "coordinator", "cora")
    change = StanceChange.objects.get(pk=body["id"])
    assert change.recorded_by == coordinator


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"level": "maybe"}, "level", '"maybe" is not a valid choice.'),
        ({"delegate": 999999}, "delegate", "No delegate with id 999999."),
        ({"source": "rumour"}, "source", '"rumour" is not a valid choice.'),
    ],
)
def test_a_bad_stance_is_a_400_naming_the_field(api_client, room, motion, payload, field, message):
    body = {"delegate": room["u2"].pk, "motion": motion.pk, "level": "for", **payload}
    response = api_client.post("/api/stance-changes/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [message]


def test_a_stance_for_a_delegate_of_another_conference_is_a_400(api_client, motion):
    elsewhere = DelegateFactory(conference=ConferenceFactory(slug="tuc27", name="TUC", is_current=False))
    response = api_client.post(
        "/api/stance-changes/", {"delegate": elsewhere.pk, "motion": motion.pk, "level": "for"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"delegate": ["This delegate is at another conference than the motion."]}
    assert not StanceChange.objects.exists()


def test_stance_changes_cannot_be_edited_or_deleted(api_client, room):
    change = StanceChange.objects.first()
    assert api_client.patch(f"/api/stance-changes/{change.pk}/", {"level": "for"}, format="json").status_code == 405
    assert api_client.delete(f"/api/stance-changes/{change.pk}/").status_code == 405


def test_the_whip_count_api_matches_the_hand_count_now_and_as_of_yesterday(api_client, room, motion):
    body = api_client.get("/api/whip-counts/", {"motion": motion.pk}).json()
    (count,) = body["results"]
    shares = {row["level"]: row["share"] for row in count["levels"]}
    assert shares == {"for": 6.25, "leaning_for": 37.5, "undecided": 0, "leaning_against": 0, "against": 31.25,
                      "unknown": 25}  # fmt: skip
    assert (count["margin"], count["projected_outcome"]) == (12.5, "carried")
    as_of = (room["now"] - dt.timedelta(days=1)).isoformat()
    body = api_client.get("/api/whip-counts/", {"motion": motion.pk, "as_of": as_of}).json()
    assert {row["level"]: row["share"] for row in body["results"][0]["levels"]}["unknown"] == 50


def test_the_whip_count_api_answers_a_new_stance_at_once_though_it_is_cached(api_client, room, motion):
    def shares():
        body = api_client.get("/api/whip-counts/", {"motion": motion.pk}).json()
        return {row["level"]: row["share"] for row in body["results"][0]["levels"]}

    assert shares()["unknown"] == 25 and shares()["unknown"] == 25  # the second answer comes from the cache
    response = api_client.post(
        "/api/stance-changes/", {"delegate": room["u2"].pk, "motion": motion.pk, "level": "for"}, format="json"
    )
    assert response.status_code == 201
    assert (shares()["unknown"], shares()["for"]) == (0, 31.25)


def test_bad_whip_count_parameters_are_a_400(api_client, motion):
    response = api_client.get("/api/whip-counts/", {"motion": "x", "as_of": "last tuesday"})
    assert response.status_code == 400
    assert set(response.json()) == {"motion", "as_of"}


def test_a_motion_over_the_word_limit_is_a_400_with_the_count(api_client, conference):
    response = api_client.post(
        "/api/motions/", {"title": "Long", "text": "word " * 251, "kind": "contemporary"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"text": ["251 of 250 words: shorten the text."]}
    assert not Motion.objects.exists()


def test_a_motion_moves_through_the_api_and_an_impossible_move_is_a_400(api_client, motion):
    url = f"/api/motions/{motion.pk}/transition/"
    response = api_client.post(url, {"to_status": "ruled_in"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"to_status": ["A motion that is draft cannot become ruled in order."]}
    assert api_client.post(url, {"to_status": "submitted"}, format="json").json()["status"] == "submitted"
    for step in ("ruled_in", "prioritised"):
        api_client.post(url, {"to_status": step}, format="json")
    when = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = api_client.post(url, {"to_status": "scheduled", "scheduled_for": when}, format="json")
    assert response.json()["status"] == "scheduled"
    result = {"clp_for": 40, "clp_against": 60, "affiliates_for": 30, "affiliates_against": 70,
              "total_for": 35, "total_against": 70}  # fmt: skip
    response = api_client.post(f"/api/motions/{motion.pk}/result/", result, format="json")
    assert response.status_code == 400
    assert response.json() == {"total_against": ["For and against must add up to 100%."]}
    response = api_client.post(f"/api/motions/{motion.pk}/result/", {**result, "total_against": 65}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "lost"


def test_submissions_start_and_move_through_the_api(api_client, conference):
    ours = services.create_motion(conference=conference, title="Ours", text="Words.", is_campaign_motion=True)
    clp = OrganisationFactory(region="London")
    response = api_client.post("/api/submissions/", {"motion": ours.pk, "organisation": clp.pk}, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    response = api_client.post(f"/api/submissions/{pk}/move/", {"stage": "confirmed"}, format="json")
    assert response.status_code == 400
    assert "stage" in response.json()
    response = api_client.post(f"/api/submissions/{pk}/move/", {"stage": "branch_meeting"}, format="json")
    assert response.json()["stage"] == "branch_meeting"
    assert api_client.get("/api/submissions/", {"region": "London", "stage": "branch_meeting"}).json()["count"] == 1


def test_only_coordinators_use_the_lobbying_api(outsider, room, motion):
    anonymous, outsider_api = APIClient(), APIClient()
    outsider_api.force_authenticate(outsider)
    for url in ("/api/motions/", "/api/submissions/", "/api/stance-changes/", "/api/whip-counts/"):
        assert anonymous.get(url).status_code in (401, 403), url
        assert outsider_api.get(url).status_code == 403, url
    body = {"delegate": room["u2"].pk, "motion": motion.pk, "level": "for"}
    assert outsider_api.post("/api/stance-changes/", body, format="json").status_code == 403
    assert StanceChange.objects.filter(delegate=room["u2"]).count() == 0


def test_the_lobbying_api_is_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/motions/", "/api/stance-changes/", "/api/whip-counts/", "/api/submissions/{id}/move/"} <= set(
        schema["paths"]
    )


def test_a_composite_is_made_through_the_api_and_a_bad_one_is_a_400(api_client, conference):
    from lobbying.models import Subject

    subject = Subject.objects.create(conference=conference, name="Housing")
    sources = []
    for n in range(2):
        m = services.create_motion(conference=conference, title=f"Homes {n}", text="Words.", subject=subject)
        for step in ("submitted", "ruled_in", "prioritised"):
            m = services.transition_motion(motion=m, to_status=step)
        sources.append(m.pk)
    body = {"motions": sources, "number": 7, "title": "Council homes", "text": "Merged."}
    response = api_client.post("/api/motions/composite/", body, format="json")
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["composite_number"]) == ("composite", 7)
    response = api_client.post("/api/motions/composite/", body, format="json")
    assert response.status_code == 400
    assert "motions" in response.json() and "number" in response.json()


def test_the_whip_api_counts_one_subject_and_refuses_an_unknown_one(api_client, conference):
    subject = Subject.objects.create(conference=conference, name="Housing")
    motion = services.create_motion(
        conference=conference, title="Council homes", text="Words.", subject=subject, position="support"
    )
    union = UnionFactory(membership=1000)
    delegate = DelegateFactory(conference=conference, organisation=union)
    services.record_stance(delegate=delegate, motion=motion, level="for", source=StanceChange.Source.COORDINATOR)
    response = api_client.get("/api/whip-counts/", {"subject": subject.pk})
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert (result["subject"], result["title"]) == (subject.pk, "Housing")
    assert {row["level"]: row["share"] for row in result["levels"]}["for"] == 50  # all the affiliates' half
    assert api_client.get("/api/whip-counts/", {"subject": 999999}).status_code == 400
