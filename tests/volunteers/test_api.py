import pytest
from rest_framework.test import APIClient

from messaging.models import OutboundMessage
from tests.volunteers.support import ShiftFactory, VolunteerFactory, at
from volunteers import services
from volunteers.models import Shift, Signup

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(frozen, coordinator):
    client = APIClient()
    client.force_authenticate(coordinator)
    return client


@pytest.fixture
def anonymous(frozen):
    return APIClient()


@pytest.fixture
def outsider_api(frozen, outsider):
    client = APIClient()
    client.force_authenticate(outsider)
    return client


def sign(shift, volunteer=None):
    return services.sign_up(shift=shift, volunteer=volunteer or VolunteerFactory(), source="public").signup


def test_anyone_can_read_places_left_but_never_names(anonymous, sms):
    shift = ShiftFactory(capacity=2, lead=VolunteerFactory(name="Lead Person"))
    sign(shift)
    ShiftFactory(conference=shift.conference, location=shift.location, cancelled=True)
    response = anonymous.get("/api/shifts/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["places_left"], row["taken"], row["waitlist"]) == (1, 1, 0)
    assert "lead" not in row and "Lead Person" not in response.content.decode()


def test_shift_list_filters_by_day_role_and_places(anonymous, sms):
    shift = ShiftFactory(capacity=1)
    stall = ShiftFactory(
        conference=shift.conference, location=shift.location, role="stall", starts_at=at(28, 9), ends_at=at(28, 10)
    )
    sign(shift)
    assert [r["id"] for r in anonymous.get("/api/shifts/?day=2027-09-28").json()["results"]] == [stall.pk]
    assert len(anonymous.get("/api/shifts/?role=stall").json()["results"]) == 1
    assert len(anonymous.get("/api/shifts/?has_places=true").json()["results"]) == 1
    assert anonymous.get("/api/shifts/?day=garbage").status_code == 400


def test_shift_list_query_count_does_not_grow(anonymous, sms, django_assert_num_queries):
    shift = ShiftFactory()

    def grow(n):
        for i in range(n):
            extra = ShiftFactory(
                conference=shift.conference, location=shift.location, starts_at=at(27, 6 + i), ends_at=at(27, 20)
            )
            sign(extra)

    grow(2)
    # page count, the page of shifts with location and counts
    with django_assert_num_queries(2):
        anonymous.get("/api/shifts/")
    grow(8)
    with django_assert_num_queries(2):
        anonymous.get("/api/shifts/")


def test_only_coordinators_write_shifts(anonymous, outsider_api, api, sms):
    shift = ShiftFactory()
    body = {
        "role": "stall",
        "location": shift.location.pk,
        "starts_at": "2027-09-28T09:00:00+01:00",
        "ends_at": "2027-09-28T11:00:00+01:00",
        "capacity": 3,
        "minimum": 1,
    }
    assert anonymous.post("/api/shifts/", body, format="json").status_code in (401, 403)
    assert outsider_api.post("/api/shifts/", body, format="json").status_code == 403
    created = api.post("/api/shifts/", body, format="json")
    assert created.status_code == 201 and created.json()["places_left"] == 3
    bad = api.post("/api/shifts/", {**body, "ends_at": "2027-09-28T08:00:00+01:00", "minimum": 9}, format="json")
    assert bad.status_code == 400 and set(bad.json()) >= {"ends_at", "minimum"}


def test_moving_a_shift_through_the_api_texts_its_volunteers(api, sms):
    shift = ShiftFactory()
    signup = sign(shift)
    response = api.patch(
        f"/api/shifts/{shift.pk}/",
        {"starts_at": "2027-09-27T10:00:00+01:00", "ends_at": "2027-09-27T12:00:00+01:00"},
        format="json",
    )
    assert response.status_code == 200
    assert OutboundMessage.objects.filter(purpose=services.PURPOSE_SHIFT_CHANGE, to=signup.volunteer.mobile).exists()
    assert api.post(f"/api/shifts/{shift.pk}/cancel/").json()["cancelled"] is True


def test_volunteers_and_signups_are_for_coordinators_only(anonymous, outsider_api, sms):
    for url in ("/api/volunteers/", "/api/signups/"):
        assert anonymous.get(url).status_code in (401, 403)
        assert outsider_api.get(url).status_code == 403


def test_signups_through_the_api_follow_the_same_rules(api, sms):
    shift = ShiftFactory(capacity=1)
    volunteer = api.post(
        "/api/volunteers/", {"name": "Ria", "mobile": "07700 900321", "consent_wording": "Yes"}, format="json"
    ).json()
    assert volunteer["mobile"] == "+447700900321"
    created = api.post("/api/signups/", {"shift": shift.pk, "volunteer": volunteer["id"]}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "confirmed"
    again = api.post("/api/signups/", {"shift": shift.pk, "volunteer": volunteer["id"]}, format="json")
    assert again.status_code == 400 and "already" in again.json()["non_field_errors"][0]
    other = VolunteerFactory()
    full = api.post("/api/signups/", {"shift": shift.pk, "volunteer": other.pk}, format="json")
    assert full.status_code == 400 and "full" in full.json()["non_field_errors"][0]
    waiting = api.post("/api/signups/", {"shift": shift.pk, "volunteer": other.pk, "waitlist": True}, format="json")
    assert waiting.json()["status"] == "waitlisted"
    cancelled = api.post(f"/api/signups/{created.json()['id']}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert Signup.objects.get(pk=waiting.json()["id"]).status == "offered"
    history = api.get(f"/api/signups/{created.json()['id']}/history/").json()
    assert [h["to_status"] for h in history] == ["confirmed", "cancelled"]


def test_bad_api_input_is_a_400_with_field_messages(api, sms):
    bad = api.post("/api/volunteers/", {"name": "", "mobile": "0151 496 0000"}, format="json")
    assert bad.status_code == 400 and {"name", "consent_wording"} <= set(bad.json())
    landline = api.post(
        "/api/volunteers/", {"name": "A", "mobile": "0151 496 0000", "consent_wording": "y"}, format="json"
    )
    assert landline.status_code == 400 and "mobile" in landline.json()
    assert api.post("/api/signups/", {"shift": 999, "volunteer": "x"}, format="json").status_code == 400
    assert api.get("/api/signups/?status=nonsense").status_code == 400
    assert not Shift.objects.exists()


def test_the_schema_lists_the_volunteer_endpoints(api):
    schema = api.get("/api/schema/").content.decode()
    for path in ("/api/shifts/", "/api/volunteers/", "/api/signups/", "/api/signups/{id}/cancel/"):
        assert path in schema
