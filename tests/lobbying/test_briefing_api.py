"""The briefings API: compose, preview, send (twice is harmless), schedule, pause, resume, cancel, progress, test
send and saved lists; 400 with per-field messages for every bad input, 404 for a missing briefing; query counts
that do not grow with the data."""

import datetime as dt

import pytest
from django.utils import timezone

from lobbying import briefings
from lobbying.models import Briefing, Motion
from messaging.models import OutboundMessage
from tests.factories import DelegateFactory, SmsConsentFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/briefings/"


@pytest.fixture
def audience(conference):
    people = [DelegateFactory(conference=conference, mobile=f"+4477009002{n:02d}") for n in range(4)]
    for delegate in people:
        SmsConsentFactory(delegate=delegate)
    return people


def compose(api_client, **payload):
    response = api_client.post(URL, {"body": "Hi {first_name}: vote FOR composite 3", **payload}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_compose_preview_send_and_progress(api_client, conference, audience, sms, dispatched):
    created = compose(api_client, sections=["clp"])
    assert (created["status"], created["created_by"], created["conference"]) == ("draft", "cora", conference.pk)

    preview = api_client.post(f"{URL}{created['id']}/preview/").json()
    assert preview["count"] == 4 and len(preview["examples"]) == 3
    assert preview["examples"][0]["text"].startswith("Free Movement: Hi ")
    assert preview["cost"] == "0.1600"

    sent = api_client.post(f"{URL}{created['id']}/send/")
    assert sent.status_code == 200, sent.json()
    assert (sent.json()["recipients"], sent.json()["queued"], sent.json()["briefing"]["status"]) == (4, 4, "sending")

    progress = api_client.get(f"{URL}{created['id']}/progress/").json()
    assert (progress["total"], progress["queued"], progress["status"]) == (4, 4, "sending")


def test_sending_twice_gives_the_same_result_and_queues_nothing_twice(api_client, audience, sms, dispatched):
    created = compose(api_client)
    first = api_client.post(f"{URL}{created['id']}/send/").json()
    second = api_client.post(f"{URL}{created['id']}/send/").json()
    assert (first["recipients"], first["queued"], first["already_queued"]) == (4, 4, 0)
    assert (second["recipients"], second["queued"], second["already_queued"]) == (4, 0, 4)
    assert first["briefing"]["status"] == second["briefing"]["status"] == "sending"
    assert OutboundMessage.objects.count() == 4


def test_pause_resume_and_cancel_through_the_api(api_client, audience, sms, dispatched):
    created = compose(api_client)
    api_client.post(f"{URL}{created['id']}/send/")
    assert api_client.post(f"{URL}{created['id']}/pause/").json()["status"] == "paused"
    progress = api_client.get(f"{URL}{created['id']}/progress/").json()
    assert (progress["queued"], progress["held"]) == (0, 4)
    assert api_client.post(f"{URL}{created['id']}/resume/").json()["status"] == "sending"
    cancelled = api_client.post(f"{URL}{created['id']}/cancel/", {"reason": "vote moved"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    assert api_client.get(f"{URL}{created['id']}/progress/").json()["skipped"] == 4

    refused = api_client.post(f"{URL}{created['id']}/pause/")
    assert refused.status_code == 400
    assert refused.json() == {"status": ["Only a briefing that is sending can be paused; this one is Cancelled."]}


def test_scheduling_before_a_motions_slot_and_unscheduling(api_client, conference, audience):
    from lobbying import services

    motion = services.create_motion(conference=conference, title="Scrap the cap", text="Conference notes.")
    Motion.objects.filter(pk=motion.pk).update(scheduled_for=timezone.now() + dt.timedelta(hours=2))
    created = compose(api_client)
    scheduled = api_client.post(
        f"{URL}{created['id']}/schedule/", {"before_motion": motion.pk, "minutes_before": 15}, format="json"
    )
    assert scheduled.status_code == 200, scheduled.json()
    body = scheduled.json()
    assert (body["status"], body["send_before_motion"], body["minutes_before"]) == ("scheduled", motion.pk, 15)
    assert body["due_at"] is not None
    assert api_client.post(f"{URL}{created['id']}/unschedule/").json()["status"] == "draft"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "Hi {name}"}, "body"),
        ({"body": ""}, "body"),
        ({"stance_levels": ["keen"]}, "stance_levels"),
        ({"stance_levels": ["for"]}, "stance_levels"),  # without a motion
        ({"regions": ["Mars"]}, "regions"),
        ({"sections": "clp"}, "sections"),
        ({"motion": 999999}, "motion"),
        ({"organisations": [999999]}, "organisations"),
        ({"saved_list": 999999}, "saved_list"),
        ({"useless_after": "soon"}, "useless_after"),
    ],
)
def test_bad_compose_input_is_a_400_naming_the_field(api_client, conference, payload, field):
    response = api_client.post(URL, {"body": "Vote FOR", **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Briefing.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "at"),
        ({"at": "2020-01-01T10:00:00Z"}, "at"),
        ({"at": "tomorrow"}, "at"),
        ({"before_motion": 999999, "minutes_before": 5}, "before_motion"),
        ({"minutes_before": -1}, "minutes_before"),
    ],
)
def test_bad_schedules_are_a_400_naming_the_field(api_client, conference, payload, field):
    created = compose(api_client)
    response = api_client.post(f"{URL}{created['id']}/schedule/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_sending_to_nobody_is_a_400_and_a_missing_briefing_a_404(api_client, conference, sms):
    created = compose(api_client)
    response = api_client.post(f"{URL}{created['id']}/send/")
    assert response.status_code == 400
    assert "nobody to text" in response.json()["audience"][0]
    for path in ("", "preview/", "send/", "pause/", "progress/"):
        method = api_client.get if path in ("", "progress/") else api_client.post
        assert method(f"{URL}999999/{path}").status_code == 404


def test_test_send_to_my_own_mobile(api_client, coordinator, audience, sms):
    created = compose(api_client)
    refused = api_client.post(f"{URL}{created['id']}/test/")
    assert refused.status_code == 400 and "to_user" in refused.json()
    bad = api_client.put(f"{URL}my-mobile/", {"mobile": "not a number"}, format="json")
    assert bad.status_code == 400 and "mobile" in bad.json()
    assert api_client.put(f"{URL}my-mobile/", {"mobile": "07700 900999"}, format="json").json() == {
        "mobile": "+447700900999"
    }
    sent = api_client.post(f"{URL}{created['id']}/test/")
    assert sent.status_code == 200
    message = OutboundMessage.objects.get(pk=sent.json()["message"])
    assert (message.to, message.purpose) == ("+447700900999", "briefing_test")


def test_saved_lists_through_the_api_as_an_audience(api_client, conference, audience, sms, dispatched):
    first, second, *_ = audience
    created = api_client.post("/api/saved-lists/", {"name": "Fringe", "delegates": [first.pk]}, format="json")
    assert created.status_code == 201, created.json()
    saved = created.json()
    added = api_client.post(f"/api/saved-lists/{saved['id']}/add/", {"delegates": [second.pk]}, format="json")
    assert sorted(added.json()["delegates"]) == sorted([first.pk, second.pk])
    duplicate = api_client.post("/api/saved-lists/", {"name": "fringe"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    briefing = compose(api_client, saved_list=saved["id"])
    assert api_client.post(f"{URL}{briefing['id']}/preview/").json()["count"] == 2


def test_listing_and_progress_take_the_same_queries_whatever_the_size(
    api_client, conference, coordinator, sms, dispatched, django_assert_max_num_queries
):
    def grow(count):
        for _ in range(count):
            delegate = DelegateFactory(conference=conference)
            SmsConsentFactory(delegate=delegate)
        briefing = briefings.compose_briefing(conference=conference, body="Vote FOR", created_by=coordinator)
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
        return briefing

    grow(2)
    # the coordinator check (group); conference; count; a page of briefings; their organisations (prefetch).
    with django_assert_max_num_queries(5):
        assert api_client.get(URL).status_code == 200
    big = None
    for _ in range(5):
        big = grow(20)
    with django_assert_max_num_queries(5):
        assert len(api_client.get(URL).json()["results"]) == 6
    # the coordinator check; the briefing; its counts in one aggregate query.
    with django_assert_max_num_queries(3):
        assert api_client.get(f"{URL}{big.pk}/progress/").json()["total"] > 20


def test_the_schema_documents_the_briefing_endpoints(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/briefings/", "/api/briefings/{id}/send/", "/api/briefings/{id}/pause/"):
        assert path in paths
    assert "400" in paths["/api/briefings/{id}/send/"]["post"]["responses"]
    assert "404" in paths["/api/briefings/{id}/send/"]["post"]["responses"]
