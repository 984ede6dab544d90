import datetime as dt
import uuid

import pytest
from django.urls import reverse
from icalendar import Calendar

from messaging.models import OutboundMessage
from tests.volunteers.support import ShiftFactory, VolunteerFactory, at
from volunteers import links, services
from volunteers.models import Role, Signup, SignupChange, Volunteer

pytestmark = pytest.mark.django_db
LIST = reverse("volunteers:shift-list")


def form_data(**overrides):
    data = {
        "name": "Asha Patel",
        "mobile": "07700 900123",
        "email": "",
        "consent": "on",
        "form_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def test_shift_list_shows_places_left_by_day_and_never_names(client, frozen, sms):
    shift = ShiftFactory(capacity=3)
    ShiftFactory(conference=shift.conference, role=Role.STALL, starts_at=at(28, 10), ends_at=at(28, 12), capacity=1)
    services.sign_up(shift=shift, volunteer=VolunteerFactory(name="Zebedee Secret"), source="public")
    response = client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Monday 27 September" in html and "Tuesday 28 September" in html
    assert "2 places left" in html and "1 place left" in html
    assert "Zebedee" not in html and "+44" not in html


def test_shift_list_filters_by_role_and_hides_past_and_cancelled_shifts(client, frozen):
    shift = ShiftFactory(role=Role.STALL)
    ShiftFactory(
        conference=shift.conference,
        location=shift.location,
        role=Role.LOBBYING,
        starts_at=at(27, 14),
        ends_at=at(27, 16),
    )
    ShiftFactory(conference=shift.conference, location=shift.location, starts_at=at(25, 9), ends_at=at(25, 11))
    ShiftFactory(
        conference=shift.conference, location=shift.location, cancelled=True, starts_at=at(28, 9), ends_at=at(28, 11)
    )
    html = client.get(LIST, {"role": "stall"}).content.decode()
    assert html.count('<a class="shift-card') == 1 and "Staffing the stall" in html
    assert client.get(LIST, {"role": "nonsense"}).status_code == 200
    assert client.get(LIST).content.decode().count('<a class="shift-card') == 2


def test_shift_list_runs_a_fixed_number_of_queries_whatever_the_size(client, frozen, sms, django_assert_num_queries):
    shift = ShiftFactory()

    def grow(n):
        for i in range(n):
            extra = ShiftFactory(
                conference=shift.conference,
                location=shift.location,
                starts_at=at(27 + i % 3, 8 + i % 10),
                ends_at=at(27 + i % 3, 19),
            )
            for _ in range(2):
                services.sign_up(shift=extra, volunteer=VolunteerFactory(), source="public")

    grow(3)
    # 1 current conference, 1 shifts with their location and counts (one GROUP BY)
    with django_assert_num_queries(2):
        client.get(LIST)
    grow(12)
    with django_assert_num_queries(2):
        client.get(LIST)


def test_signing_up_confirms_texts_the_private_link_and_lands_on_my_shifts(client, frozen, sms):
    shift = ShiftFactory()
    response = client.post(reverse("volunteers:shift-signup", args=[shift.pk]), form_data())
    volunteer = Volunteer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:my-shifts", args=[links.my_shifts_token(volunteer.pk)])
    assert volunteer.mobile == "+447700900123" and volunteer.consent_wording == services.CONSENT_WORDING
    assert Signup.objects.get().status == "confirmed"
    text = OutboundMessage.objects.get()
    assert links.my_shifts_url(volunteer.pk) in text.body
    page = client.get(response["Location"])
    assert "Asha Patel" in page.content.decode() and "You're on" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"


def test_a_double_submitted_form_signs_up_once(client, frozen, sms):
    shift = ShiftFactory()
    data = form_data()
    url = reverse("volunteers:shift-signup", args=[shift.pk])
    first, second = client.post(url, data), client.post(url, data)
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Signup.objects.count() == 1 and SignupChange.objects.count() == 1 and OutboundMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mobile": "0151 496 0000"}, "mobile", "not a mobile number"),
        ({"mobile": "12"}, "mobile", "not a valid phone number"),
        ({"consent": ""}, "consent", "Please tick the box"),
        ({"name": "   "}, "name", "This field is required"),
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_bad_input_shows_the_field_error_keeps_what_was_typed_and_writes_nothing(
    client, frozen, sms, overrides, field, message
):
    shift = ShiftFactory()
    response = client.post(reverse("volunteers:shift-signup", args=[shift.pk]), form_data(**overrides))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Asha Patel" in html or field == "name"
    assert not Volunteer.objects.exists() and not Signup.objects.exists() and not OutboundMessage.objects.exists()


def test_clash_and_duplicate_are_form_errors(client, frozen, sms):
    shift = ShiftFactory()
    other = ShiftFactory(conference=shift.conference, location=shift.location, starts_at=at(27, 10), ends_at=at(27, 12))
    url = reverse("volunteers:shift-signup", args=[shift.pk])
    client.post(url, form_data())
    again = client.post(url, form_data())
    assert again.status_code == 400 and "already signed up" in again.content.decode()
    clash = client.post(reverse("volunteers:shift-signup", args=[other.pk]), form_data())
    assert clash.status_code == 400 and "overlaps another of your shifts" in clash.content.decode()
    assert Signup.objects.count() == 1


def test_started_and_cancelled_shifts_show_no_form(client, frozen, sms):
    past = ShiftFactory(starts_at=at(25, 11), ends_at=at(25, 13))
    response = client.get(reverse("volunteers:shift-signup", args=[past.pk]))
    html = response.content.decode()
    assert "already started" in html and 'class="card signup-form"' not in html
    posted = client.post(reverse("volunteers:shift-signup", args=[past.pk]), form_data())
    assert posted.status_code == 400 and not Signup.objects.exists()


def test_public_form_is_rate_limited_per_number(client, frozen, sms, settings):
    settings.VOLUNTEER_SIGNUP_RATE_PER_NUMBER = "2/h"
    shifts = [ShiftFactory(starts_at=at(27, h), ends_at=at(27, h + 1)) for h in (8, 10, 12)]
    codes = [client.post(reverse("volunteers:shift-signup", args=[s.pk]), form_data()).status_code for s in shifts]
    assert codes == [302, 302, 429]
    assert Signup.objects.count() == 2


def test_public_form_is_rate_limited_per_ip(client, frozen, sms, settings):
    settings.VOLUNTEER_SIGNUP_RATE_PER_IP = "2/h"
    shift = ShiftFactory()
    codes = [
        client.post(
            reverse("volunteers:shift-signup", args=[shift.pk]), form_data(mobile=f"07700 9001{i:02d}")
        ).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]


def test_a_tampered_link_is_not_found(client, frozen):
    volunteer = VolunteerFactory()
    token = links.my_shifts_token(volunteer.pk)
    assert client.get(reverse("volunteers:my-shifts", args=[token[:-2] + "xx"])).status_code == 404
    assert client.get(reverse("volunteers:my-shifts-ics", args=["nonsense"])).status_code == 404


def test_an_expired_link_is_not_found(client, frozen, settings):
    settings.VOLUNTEER_LINK_MAX_AGE_DAYS = 1
    token = links.my_shifts_token(VolunteerFactory().pk)
    frozen.shift(dt.timedelta(days=2))
    assert client.get(reverse("volunteers:my-shifts", args=[token])).status_code == 404


def test_cancel_from_the_private_page_frees_the_place_for_the_waitlist(client, frozen, sms):
    shift = ShiftFactory(capacity=1)
    mine = services.sign_up(shift=shift, volunteer=VolunteerFactory(), source="public").signup
    waiting = services.sign_up(shift=shift, volunteer=VolunteerFactory(), source="public").signup
    token = links.my_shifts_token(mine.volunteer_id)
    response = client.post(reverse("volunteers:my-shift-cancel", args=[token, mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    waiting.refresh_from_db()
    assert mine.status == "cancelled" and waiting.status == "offered"


def test_nobody_can_cancel_someone_elses_signup_with_their_own_link(client, frozen, sms):
    shift = ShiftFactory()
    theirs = services.sign_up(shift=shift, volunteer=VolunteerFactory(), source="public").signup
    my_token = links.my_shifts_token(VolunteerFactory().pk)
    assert client.post(reverse("volunteers:my-shift-cancel", args=[my_token, theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"


def test_calendar_feed_lists_my_shifts_in_local_time(client, frozen, sms):
    volunteer = VolunteerFactory()
    shift = ShiftFactory(notes="Meet by the fountain")
    services.sign_up(shift=shift, volunteer=volunteer, source="public")
    response = client.get(reverse("volunteers:my-shifts-ics", args=[links.my_shifts_token(volunteer.pk)]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 1
    assert events[0].decoded("dtstart") == at(27, 9)
    assert str(events[0]["status"]) == "CONFIRMED" and "fountain" in str(events[0]["description"])


def test_one_tap_cover_link_gives_the_place_to_the_first_taker_only(client, frozen, sms):
    shift = ShiftFactory(capacity=1)
    first, second = VolunteerFactory(), VolunteerFactory()
    first_url = reverse("volunteers:cover", args=[links.cover_token(first.pk, shift.pk)])
    second_url = reverse("volunteers:cover", args=[links.cover_token(second.pk, shift.pk)])
    assert client.get(first_url).status_code == 200
    assert client.post(first_url).status_code == 302
    taken = client.post(second_url)
    assert taken.status_code == 409 and "full" in taken.content.decode()
    assert list(Signup.objects.values_list("volunteer_id", "status")) == [(first.pk, "confirmed")]
    assert client.get(reverse("volunteers:cover", args=["forged"])).status_code == 404


def test_behind_a_proxy_the_limit_counts_each_client_not_the_proxy(client, frozen, sms, settings):
    settings.VOLUNTEER_SIGNUP_RATE_PER_IP = "1/h"
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    shift = ShiftFactory()
    url = reverse("volunteers:shift-signup", args=[shift.pk])
    first = client.post(url, form_data(mobile="07700 900201"), HTTP_X_FORWARDED_FOR="203.0.113.1")
    other = client.post(url, form_data(mobile="07700 900202"), HTTP_X_FORWARDED_FOR="203.0.113.2")
    again = client.post(url, form_data(mobile="07700 900203"), HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert (first.status_code, other.status_code, again.status_code) == (302, 302, 429)
