import csv
import io

import pytest
from django.urls import reverse

from messaging.models import OutboundMessage
from tests.volunteers.support import ShiftFactory, VolunteerFactory, at
from volunteers import links, services
from volunteers.models import Shift, Signup
from volunteers.views_coordinator import safe_cell

pytestmark = pytest.mark.django_db
ROTA = reverse("volunteers:rota")


def sign(shift, volunteer=None):
    return services.sign_up(shift=shift, volunteer=volunteer or VolunteerFactory(), source="public").signup


@pytest.fixture
def coordinator_client(frozen, client, coordinator):
    """Logged in after the clock is frozen, so the session is not already expired in 2027."""
    client.force_login(coordinator)
    return client


@pytest.fixture
def shift(frozen, sms):
    return ShiftFactory(capacity=3, minimum=2)


def every_volunteers_url(shift, signup, volunteer):
    """(method, url, public?) for every route in volunteers/urls.py."""
    token = links.my_shifts_token(volunteer.pk)
    return [
        ("get", reverse("volunteers:shift-list"), True),
        ("get", reverse("volunteers:shift-signup", args=[shift.pk]), True),
        ("get", reverse("volunteers:my-shifts", args=[token]), True),
        ("get", reverse("volunteers:my-shifts-ics", args=[token]), True),
        ("get", reverse("volunteers:cover", args=[links.cover_token(volunteer.pk, shift.pk)]), True),
        ("get", ROTA, False),
        ("get", reverse("volunteers:rota-export"), False),
        ("get", reverse("volunteers:shift-create"), False),
        ("post", reverse("volunteers:copy-day"), False),
        ("get", reverse("volunteers:shift-manage", args=[shift.pk]), False),
        ("get", reverse("volunteers:shift-edit", args=[shift.pk]), False),
        ("post", reverse("volunteers:shift-cancel", args=[shift.pk]), False),
        ("post", reverse("volunteers:shift-assign", args=[shift.pk]), False),
        ("post", reverse("volunteers:shift-cover", args=[shift.pk]), False),
        ("get", reverse("volunteers:check-in", args=[shift.pk]), False),
        ("post", reverse("volunteers:signup-action", args=[signup.pk, "cancel"]), False),
        ("get", reverse("volunteers:volunteer-detail", args=[volunteer.pk]), False),
    ]


def test_every_coordinator_url_refuses_anonymous_visitors_and_non_coordinators(client, outsider, shift):
    from django.urls import get_resolver

    volunteer = VolunteerFactory()
    signup = sign(shift, volunteer)
    urls = every_volunteers_url(shift, signup, volunteer)
    patterns = get_resolver().url_patterns
    mounted = next(p for p in patterns if str(p.pattern) == "shifts/")
    assert len(urls) == len(mounted.url_patterns) - 2  # all but the POST-only cancel/accept of my shifts
    for method, url, public in urls:
        response = getattr(client, method)(url)
        if public:
            assert response.status_code in (200, 302), url
        else:
            assert response.status_code == 302 and "/login/" in response["Location"], url
    client.force_login(outsider)
    for method, url, public in urls:
        if not public:
            assert getattr(client, method)(url).status_code == 403, url
    signup.refresh_from_db()
    assert signup.status == "confirmed" and not Shift.objects.filter(cancelled=True).exists()


def test_public_pages_never_show_names_or_numbers_of_others(client, shift):
    sign(shift, VolunteerFactory(name="Private Person", mobile="+447700900555"))
    for url in (reverse("volunteers:shift-list"), reverse("volunteers:shift-signup", args=[shift.pk])):
        html = client.get(url).content.decode()
        assert "Private Person" not in html and "900555" not in html


def test_rota_shows_cover_against_minimum_and_highlights_gaps(coordinator_client, shift):
    full = ShiftFactory(
        conference=shift.conference,
        location=shift.location,
        capacity=1,
        minimum=1,
        starts_at=at(27, 14),
        ends_at=at(27, 16),
    )
    sign(full)
    sign(full)  # waitlisted
    sign(shift)
    response = coordinator_client.get(ROTA, {"day": "2027-09-27"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="is-gap"') == 1  # 1 of minimum 2
    assert "1 of 3" in html and "1 of 1" in html
    assert response.context["gaps"] == 1 and response.context["waiting"] == 1


def test_rota_runs_a_fixed_number_of_queries_whatever_the_size(coordinator_client, shift, django_assert_num_queries):
    def grow(n):
        for i in range(n):
            extra = ShiftFactory(
                conference=shift.conference, location=shift.location, starts_at=at(27, 6 + i % 12), ends_at=at(27, 20)
            )
            for _ in range(2):
                sign(extra)

    grow(2)
    # session, user, coordinators group, current conference, the days with shifts, the day's shifts with
    # location, lead and counts, their sign-ups with volunteers (prefetch)
    with django_assert_num_queries(7):
        coordinator_client.get(ROTA, {"day": "2027-09-27"})
    grow(10)
    with django_assert_num_queries(7):
        coordinator_client.get(ROTA, {"day": "2027-09-27"})


def test_rota_with_a_garbage_day_falls_back_to_a_day_with_shifts(coordinator_client, shift):
    response = coordinator_client.get(ROTA, {"day": "not-a-day"})
    assert response.status_code == 200 and response.context["day"].isoformat() == "2027-09-27"


def test_assigning_a_volunteer_signs_them_up_and_texts_them(coordinator_client, coordinator, shift):
    volunteer = VolunteerFactory()
    response = coordinator_client.post(reverse("volunteers:shift-assign", args=[shift.pk]), {"volunteer": volunteer.pk})
    assert response.status_code == 302
    signup = Signup.objects.get()
    assert signup.status == "confirmed" and signup.changes.get().by == coordinator
    assert OutboundMessage.objects.get().to == volunteer.mobile


def test_assigning_a_new_volunteer_needs_consent_and_a_mobile_and_keeps_the_input(coordinator_client, shift):
    url = reverse("volunteers:shift-assign", args=[shift.pk])
    response = coordinator_client.post(url, {"name": "Nia Jones", "mobile": "0151 496 0000", "consent": "on"})
    assert response.status_code == 400 and "not a mobile number" in response.content.decode()
    assert "Nia Jones" in response.content.decode()
    response = coordinator_client.post(url, {"name": "Nia Jones", "mobile": "07700 900777"})
    assert response.status_code == 400 and "agreed to texts" in response.content.decode()
    assert not Signup.objects.exists()
    assert (
        coordinator_client.post(url, {"name": "Nia Jones", "mobile": "07700 900777", "consent": "on"}).status_code
        == 302
    )


def test_assigning_to_a_full_shift_or_a_clashing_volunteer_is_a_form_error(coordinator_client, shift):
    small = ShiftFactory(
        conference=shift.conference,
        location=shift.location,
        capacity=1,
        minimum=1,
        starts_at=at(27, 10),
        ends_at=at(27, 12),
    )
    sign(small)
    volunteer = VolunteerFactory()
    full = coordinator_client.post(reverse("volunteers:shift-assign", args=[small.pk]), {"volunteer": volunteer.pk})
    assert full.status_code == 400 and "full" in full.content.decode()
    sign(shift, volunteer)
    other = ShiftFactory(conference=shift.conference, location=shift.location, starts_at=at(27, 10), ends_at=at(27, 11))
    clash = coordinator_client.post(reverse("volunteers:shift-assign", args=[other.pk]), {"volunteer": volunteer.pk})
    assert clash.status_code == 400 and "overlaps" in clash.content.decode()


def test_check_in_records_attended_and_no_show(coordinator_client, shift):
    here, absent = sign(shift), sign(shift)
    page = coordinator_client.get(reverse("volunteers:check-in", args=[shift.pk]))
    assert here.volunteer.name in page.content.decode()
    url = reverse("volunteers:check-in", args=[shift.pk])
    coordinator_client.post(reverse("volunteers:signup-action", args=[here.pk, "attended"]), {"next": url})
    response = coordinator_client.post(reverse("volunteers:signup-action", args=[absent.pk, "no_show"]), {"next": url})
    assert response["Location"] == url
    assert dict(Signup.objects.values_list("pk", "status")) == {here.pk: "attended", absent.pk: "no_show"}
    assert coordinator_client.post(reverse("volunteers:signup-action", args=[here.pk, "explode"])).status_code == 404


def test_cover_now_texts_free_volunteers_with_a_one_tap_link(coordinator_client, shift):
    VolunteerFactory()
    response = coordinator_client.post(reverse("volunteers:shift-cover", args=[shift.pk]), follow=True)
    assert "Texted 1 free volunteer" in response.content.decode()
    assert "/shifts/cover/" in OutboundMessage.objects.get(purpose=services.PURPOSE_COVER).body


def test_csv_export_has_a_bom_and_neutralises_formulas(coordinator_client, shift):
    sign(shift, VolunteerFactory(name='=HYPERLINK("http://evil")'))
    response = coordinator_client.get(reverse("volunteers:rota-export"))
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:4] == ["day", "start", "end", "role"]
    assert rows[1][10] == '\'=HYPERLINK("http://evil")' and rows[1][11].startswith("'+44")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-2", "'-2"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Asha", "Asha"),
        (None, ""),
    ],
)
def test_safe_cell_neutralises_every_formula_start(value, expected):
    assert safe_cell(value) == expected


def test_coordinators_add_edit_and_cancel_shifts_with_field_errors_kept(coordinator_client, shift):
    url = reverse("volunteers:shift-create")
    data = {
        "role": "stall",
        "location": shift.location.pk,
        "starts_at": "2027-09-28T10:00",
        "ends_at": "2027-09-28T09:00",
        "capacity": "2",
        "minimum": "1",
        "notes": "Bring flyers",
    }
    bad = coordinator_client.post(url, data)
    assert bad.status_code == 400 and "must end after it starts" in bad.content.decode()
    assert "Bring flyers" in bad.content.decode()
    data["ends_at"] = "2027-09-28T12:00"
    assert coordinator_client.post(url, data).status_code == 302
    created = Shift.objects.get(role="stall")
    assert created.starts_at == at(28, 10)  # typed in the conference's time zone
    signup = sign(created)
    edit = reverse("volunteers:shift-edit", args=[created.pk])
    assert coordinator_client.post(edit, {**data, "starts_at": "2027-09-28T11:00"}).status_code == 302
    assert OutboundMessage.objects.filter(purpose=services.PURPOSE_SHIFT_CHANGE, to=signup.volunteer.mobile).exists()
    assert coordinator_client.post(reverse("volunteers:shift-cancel", args=[created.pk])).status_code == 302
    signup.refresh_from_db()
    assert signup.status == "cancelled"


def test_copying_a_day_from_the_rota(coordinator_client, shift):
    response = coordinator_client.post(
        reverse("volunteers:copy-day"), {"from_day": "2027-09-27", "to_day": "2027-09-28"}
    )
    assert response.status_code == 302 and Shift.objects.filter(starts_at=at(28, 9)).exists()
    garbage = coordinator_client.post(reverse("volunteers:copy-day"), {"from_day": "x", "to_day": "y"})
    assert garbage.status_code == 302


def test_volunteer_detail_shows_number_consent_and_history(coordinator_client, shift):
    volunteer = VolunteerFactory()
    sign(shift, volunteer)
    html = coordinator_client.get(reverse("volunteers:volunteer-detail", args=[volunteer.pk])).content.decode()
    assert volunteer.mobile in html and "I agree to texts" in html and "new → confirmed" in html


def test_dashboard_warns_of_shifts_short_of_their_minimum_in_the_next_day(coordinator_client, shift):
    from django.utils import timezone

    from volunteers.selectors import rota_gaps_alert

    ShiftFactory(
        conference=shift.conference,
        location=shift.location,
        starts_at=at(25, 15),
        ends_at=at(25, 17),
        capacity=2,
        minimum=1,
    )
    response = coordinator_client.get(reverse("dashboard"))
    assert "1 volunteer shift in the next 24 hours is short" in response.content.decode()
    assert rota_gaps_alert(conference=shift.conference, now=timezone.now(), hours=72)["text"].startswith("2 ")


def test_moving_a_shift_in_the_admin_texts_its_volunteers_and_refuses_too_few_places(coordinator_client, shift):
    signups = [sign(shift), sign(shift)]
    url = reverse("admin:volunteers_shift_change", args=[shift.pk])
    data = {
        "conference": shift.conference_id,
        "role": shift.role,
        "location": shift.location_id,
        "starts_at_0": "27/09/2027",
        "starts_at_1": "10:00:00",
        "ends_at_0": "27/09/2027",
        "ends_at_1": "12:00:00",
        "capacity": "1",
        "minimum": "1",
        "lead": "",
        "notes": "",
        "signups-TOTAL_FORMS": "0",
        "signups-INITIAL_FORMS": "0",
        "signups-MIN_NUM_FORMS": "0",
        "signups-MAX_NUM_FORMS": "0",
    }
    refused = coordinator_client.post(url, data)
    assert refused.status_code == 200 and "already hold places" in refused.content.decode()
    assert coordinator_client.post(url, {**data, "capacity": "3"}).status_code == 302
    shift.refresh_from_db()
    assert shift.starts_at == at(27, 10)
    moved = OutboundMessage.objects.filter(purpose=services.PURPOSE_SHIFT_CHANGE)
    assert set(moved.values_list("to", flat=True)) == {s.volunteer.mobile for s in signups}
