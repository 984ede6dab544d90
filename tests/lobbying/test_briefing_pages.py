"""Briefing pages: live progress and the report in a fixed number of queries, compose / preview / send pages
that show the service's errors on their fields, and a send that a double click cannot repeat."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from lobbying import briefings, selectors
from lobbying.models import Briefing, BriefingRecipient, Motion
from messaging import services as messaging_services
from messaging.models import InboundMessage, OutboundMessage
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status


@pytest.fixture(autouse=True)
def postgres():
    require_postgres()


def audience_of(conference, size, *, start=0):
    organisation = OrganisationFactory(name=f"Wirral West {start}")
    people = []
    for n in range(start, start + size):
        delegate = DelegateFactory(
            conference=conference, organisation=organisation, first_name=f"Ada{n}", mobile=f"+4477009{n:05d}"
        )
        SmsConsentFactory(delegate=delegate)
        people.append(delegate)
    return people


def sent_briefing(conference, coordinator, briefing_motion, *, body="Hi {first_name}: vote FOR {motion}", **filters):
    briefing = briefings.compose_briefing(
        conference=conference, body=body, created_by=coordinator, motion=briefing_motion, **filters
    )
    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    return briefing


def outbox_of(briefing):
    keys = BriefingRecipient.objects.filter(briefing=briefing).values("idempotency_key")
    return OutboundMessage.objects.filter(idempotency_key__in=keys).order_by("pk")


def settle(briefing, plan):
    """Move the briefing's texts on as a worker and Twilio would: plan is [(status, error_code, count)]."""
    rows = list(outbox_of(briefing).values_list("pk", flat=True))
    for status, code, count in plan:
        ids, rows = rows[:count], rows[count:]
        OutboundMessage.objects.filter(pk__in=ids).update(status=status, error_code=code)


def reply_to(message, body="FOR"):
    return InboundMessage.objects.create(
        from_number=message.to, body=body, in_reply_to=message, provider_sid=f"SM{uuid.uuid4().hex}"
    )


# Progress ----------------------------------------------------------------------------------------------------------


def test_progress_counts_each_outcome_and_replies_and_the_share_done(
    conference, coordinator, briefing_motion, sms, dispatched
):
    audience_of(conference, 10)
    briefing = sent_briefing(conference, coordinator, briefing_motion)
    settle(
        briefing,
        [
            (Status.DELIVERED, "", 3),
            (Status.SENT, "", 1),
            (Status.UNDELIVERED, "30003", 1),
            (Status.FAILED, "21211", 1),
            (Status.UNKNOWN, "timeout", 1),
            (Status.SKIPPED, "opted_out", 1),
            (Status.SENDING, "", 1),
        ],  # and one still queued
    )
    first = outbox_of(briefing).filter(status=Status.DELIVERED).first()
    reply_to(first)
    reply_to(first, "and again")  # two replies from one person count once

    progress = selectors.briefing_progress(briefing=briefing)

    assert (progress.total, progress.queued, progress.sending, progress.sent, progress.delivered) == (10, 1, 1, 1, 3)
    assert (progress.failed, progress.unknown, progress.skipped, progress.replied) == (2, 1, 1, 1)
    assert (progress.pending, progress.done, progress.percent_done) == (2, 8, 80.0)
    assert sum(part["share"] for part in progress.shares()) == pytest.approx(100.0)


def test_progress_of_a_draft_is_empty_and_other_briefings_do_not_count(
    conference, coordinator, briefing_motion, sms, dispatched
):
    audience_of(conference, 3)
    other = sent_briefing(conference, coordinator, briefing_motion)
    draft = briefings.compose_briefing(conference=conference, body="Hi {first_name}", created_by=coordinator)

    assert selectors.briefing_progress(briefing=draft).total == 0
    assert selectors.briefing_progress(briefing=draft).percent_done == 0.0
    assert selectors.briefing_progress(briefing=other).total == 3


def _progress_queries(conference, coordinator, briefing_motion, size, django_assert_max_num_queries, start):
    people = audience_of(conference, size, start=start)
    briefing = sent_briefing(conference, coordinator, briefing_motion, organisations=[people[0].organisation])
    settle(briefing, [(Status.DELIVERED, "", size // 2), (Status.FAILED, "30005", 1)])
    reply_to(outbox_of(briefing).first())
    # One query: the conditional counts over this briefing's outbox rows, the replies as an EXISTS.
    with django_assert_max_num_queries(1) as captured:
        progress = selectors.briefing_progress(briefing=briefing)
    assert progress.total == size
    return len(captured.captured_queries)


def test_progress_is_one_query_for_5_or_120_recipients(
    conference, coordinator, briefing_motion, sms, dispatched, django_assert_max_num_queries
):
    small = _progress_queries(conference, coordinator, briefing_motion, 5, django_assert_max_num_queries, 0)
    big = _progress_queries(conference, coordinator, briefing_motion, 120, django_assert_max_num_queries, 100)
    assert small == big == 1


# Report ------------------------------------------------------------------------------------------------------------


def test_the_report_explains_failures_and_skips_and_lists_replies_with_who(
    conference, coordinator, briefing_motion, sms, dispatched
):
    people = audience_of(conference, 6)
    briefing = sent_briefing(conference, coordinator, briefing_motion)
    settle(
        briefing,
        [
            (Status.FAILED, "21211", 1),
            (Status.UNDELIVERED, "30003", 2),
            (Status.UNDELIVERED, "39999", 1),
            (Status.SKIPPED, "opted_out", 1),
            (Status.DELIVERED, "", 1),
        ],
    )
    delivered = outbox_of(briefing).get(status=Status.DELIVERED)
    reply_to(delivered, "FOR")

    report = selectors.briefing_report(briefing=briefing)

    assert report.failure_reasons == [
        {"code": "30003", "reason": "The phone was switched off or out of signal.", "n": 2},
        {"code": "21211", "reason": "Not a valid phone number.", "n": 1},
        {"code": "39999", "reason": "Provider error 39999", "n": 1},
    ]
    assert report.failures.count() == 4
    assert [selectors.explain_skip(m.error_code) for m in report.skipped] == ["Opted out"]
    assert selectors.explain_skip("expired") == "Too late (past its useless-after time)"
    replies = list(report.replies)
    assert [r.body for r in replies] == ["FOR"]
    who = selectors.people_for(replies, key=lambda reply: reply.in_reply_to.idempotency_key)
    assert who[delivered.idempotency_key] == people[5]


# Pages -------------------------------------------------------------------------------------------------------------


def compose_data(**overrides):
    data = {"body": "Hi {first_name}: vote FOR {motion}", "motion": "", "send_at": "", "useless_after": ""}
    data.update(overrides)
    return data


def test_compose_page_lists_merge_fields_and_organisations_as_a_datalist(
    coordinator_client, conference, briefing_motion
):
    OrganisationFactory(name="Wirral West")

    response = coordinator_client.get(reverse("lobbying:briefing-create"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-merge-field="first_name"' in html and 'data-merge-field="motion"' in html
    assert '<datalist id="organisation-options"><option value="Wirral West">' in html
    assert "<select" not in html.split('name="organisations"')[0].rsplit("<label", 1)[-1]


def test_composing_saves_a_draft_with_its_filters_and_shows_the_preview(
    coordinator_client, conference, coordinator, briefing_motion, sms
):
    people = audience_of(conference, 4)
    other = OrganisationFactory(name="Hackney South")

    response = coordinator_client.post(
        reverse("lobbying:briefing-create"),
        compose_data(
            motion=briefing_motion.pk,
            sections=["clp"],
            regions=[people[0].organisation.region],
            organisations=["wirral west 0", "", other.name],
        ),
    )

    briefing = Briefing.objects.get()
    assert response.status_code == 302 and response.url == reverse("lobbying:briefing-detail", args=[briefing.pk])
    assert (briefing.status, briefing.motion, briefing.sections) == (Briefing.Status.DRAFT, briefing_motion, ["clp"])
    assert set(briefing.organisations.all()) == {people[0].organisation, other}
    page = coordinator_client.get(response.url)
    html = page.content.decode()
    assert '<span class="tile-value" id="preview-count">4</span>' in html
    assert html.count('class="sms-bubble"') == 3
    assert "Free Movement: Hi Ada0: vote FOR Composite 3: Scrap the cap\nReply STOP to opt out" in html
    assert "Send to 4 delegates now" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"body": "Hi {name}"}, "body", "Unknown merge field {name}"),
        ({"body": "Vote FOR " + "x" * 600}, "body", "a briefing may use 3"),
        ({"body": "Hi", "stance_levels": ["for"]}, "stance_levels", "needs a motion"),
        ({"body": "Hi", "organisations": ["Nowhere CLP"]}, "organisations", "No organisation called “Nowhere CLP”"),
        ({"body": "Hi", "send_at": "2001-01-01T10:00"}, "send_at", "That time has passed"),
    ],
)
def test_bad_input_shows_on_its_field_and_saves_nothing(coordinator_client, conference, data, field, message):
    audience_of(conference, 1)

    response = coordinator_client.post(reverse("lobbying:briefing-create"), compose_data(**data))

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Briefing.objects.exists()
    assert 'value="Nowhere CLP"' in response.content.decode() or field != "organisations"  # the typing is kept


def test_an_empty_audience_is_refused_at_compose_time(coordinator_client, conference, briefing_motion):
    DelegateFactory(conference=conference)  # no consent: cannot be texted

    response = coordinator_client.post(reverse("lobbying:briefing-create"), compose_data(body="Hi {first_name}"))

    assert response.status_code == 400
    assert "No delegate matches this audience" in response.content.decode()
    assert not Briefing.objects.exists()


def test_send_queues_every_text_once_and_a_second_press_queues_nothing(
    coordinator_client, client, second_coordinator, conference, coordinator, briefing_motion, sms, dispatched
):
    audience_of(conference, 3)
    briefing = briefings.compose_briefing(conference=conference, body="Hi {first_name}", created_by=coordinator)
    url = reverse("lobbying:briefing-send", args=[briefing.pk])

    first = coordinator_client.post(url)
    again = coordinator_client.post(url, follow=True)  # a double click
    client.force_login(second_coordinator)
    other = client.post(url, follow=True)  # a second coordinator on a stale page

    assert first.status_code == 302
    assert OutboundMessage.objects.count() == 3
    assert "Already sent: nothing was queued twice." in again.content.decode()
    assert "Already sent" in other.content.decode()
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.SENDING


def test_a_send_that_the_service_refuses_says_why_and_sends_nothing(
    coordinator_client, conference, coordinator, briefing_motion, sms, dispatched
):
    (person,) = audience_of(conference, 1)
    briefing = briefings.compose_briefing(conference=conference, body="Hi {first_name}", created_by=coordinator)
    messaging_services.opt_out(person.mobile, source="sms_keyword")  # since the draft was written

    response = coordinator_client.post(reverse("lobbying:briefing-send", args=[briefing.pk]))

    assert response.status_code == 400
    assert "Nothing was sent." in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_the_detail_page_of_a_sending_briefing_polls_its_progress_and_shows_the_report(
    coordinator_client, conference, coordinator, briefing_motion, sms, dispatched
):
    audience_of(conference, 4)
    briefing = sent_briefing(conference, coordinator, briefing_motion)
    settle(briefing, [(Status.DELIVERED, "", 1), (Status.FAILED, "30006", 1)])

    html = coordinator_client.get(reverse("lobbying:briefing-detail", args=[briefing.pk])).content.decode()

    assert f'data-progress-url="{reverse("lobbying:briefing-progress", args=[briefing.pk])}"' in html
    assert "data-still-live" in html and "data-live" in html
    assert "50%</strong> done" in html
    assert "A landline or a network that cannot receive texts." in html

    settle(briefing, [(Status.SENT, "", 4)])
    fragment = coordinator_client.get(reverse("lobbying:briefing-progress", args=[briefing.pk])).content.decode()
    # Nothing left to send: the script loads the report; it polls on until the briefing is marked sent.
    assert "100%</strong> done" in fragment and "data-settled" in fragment and "data-still-live" in fragment
    assert 'name="viewport"' not in fragment  # a fragment, not a page


def _page_queries(client, url, django_assert_max_num_queries):
    with django_assert_max_num_queries(30) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _filled_briefing(conference, coordinator, briefing_motion, size, start):
    people = audience_of(conference, size, start=start)
    briefing = sent_briefing(conference, coordinator, briefing_motion, organisations=[people[0].organisation])
    third = size // 3
    settle(briefing, [(Status.FAILED, "21211", third), (Status.SKIPPED, "opted_out", third), (Status.DELIVERED, "", 5)])
    for message in outbox_of(briefing).filter(status=Status.DELIVERED):
        reply_to(message)
    return briefing


def test_briefing_pages_take_the_same_queries_for_small_and_large_audiences(
    coordinator_client, conference, coordinator, briefing_motion, sms, dispatched, django_assert_max_num_queries
):
    small = _filled_briefing(conference, coordinator, briefing_motion, 9, 0)
    large = _filled_briefing(conference, coordinator, briefing_motion, 90, 100)
    counts = {}
    for name in ("briefing-detail", "briefing-progress", "briefing-report"):
        counts[name] = [
            _page_queries(coordinator_client, reverse(f"lobbying:{name}", args=[b.pk]), django_assert_max_num_queries)
            for b in (small, large)
        ]
    counts["list"] = [
        _page_queries(coordinator_client, reverse("lobbying:briefing-list"), django_assert_max_num_queries)
    ]
    for n in range(3):
        briefings.compose_briefing(conference=conference, body=f"Draft {n}", created_by=coordinator)
    counts["list"].append(
        _page_queries(coordinator_client, reverse("lobbying:briefing-list"), django_assert_max_num_queries)
    )
    # Per request: session, user and the coordinators-group check; then for the progress fragment the briefing
    # and ONE query for all the counts. The report: the three lists' counts and pages, one query naming the
    # page's delegates, the failure reasons.
    assert all(small == large for small, large in counts.values()), counts
    assert counts["briefing-progress"][0] <= 5, counts


def test_report_lists_are_paged(coordinator_client, conference, coordinator, briefing_motion, sms, dispatched):
    briefing = _filled_briefing(conference, coordinator, briefing_motion, 90, 0)  # 30 failed: two pages of 25

    first = coordinator_client.get(reverse("lobbying:briefing-detail", args=[briefing.pk])).content.decode()
    second = coordinator_client.get(reverse("lobbying:briefing-detail", args=[briefing.pk]) + "?failed=2")

    assert "Page 1 of 2" in first and "?failed=2#failures" in first
    assert second.content.decode().count("Not a valid phone number.") == 1 + 5  # the reason line and 5 rows


# Timing and control ------------------------------------------------------------------------------------------------


def test_composing_with_a_time_schedules_it_and_minutes_before_a_slot_follow_the_motion(
    coordinator_client, conference, coordinator, briefing_motion
):
    audience_of(conference, 2)
    slot = timezone.now() + dt.timedelta(hours=3)
    Motion.objects.filter(pk=briefing_motion.pk).update(scheduled_for=slot)

    at = coordinator_client.post(
        reverse("lobbying:briefing-create"), compose_data(body="Hi {first_name}", send_at=_typed(hours=2))
    )
    before = coordinator_client.post(
        reverse("lobbying:briefing-create"),
        compose_data(body="Hi {first_name}", send_before_motion=briefing_motion.pk, minutes_before=15),
    )

    assert at.status_code == before.status_code == 302
    timed, relative = Briefing.objects.order_by("pk")
    assert timed.status == relative.status == Briefing.Status.SCHEDULED
    assert relative.due_at == slot - dt.timedelta(minutes=15)
    page = coordinator_client.get(before.url).content.decode()
    assert "15 minutes before Composite 3: Scrap the cap" in page and "Unschedule" in page


def _typed(**delta):
    """A time as a datetime-local field sends it, in the conference's zone (Europe/London in the factory)."""
    zone = ZoneInfo("Europe/London")
    return (timezone.now() + dt.timedelta(**delta)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def test_a_lead_that_is_already_past_is_a_field_error_and_nothing_is_saved(
    coordinator_client, conference, briefing_motion
):
    audience_of(conference, 1)
    Motion.objects.filter(pk=briefing_motion.pk).update(scheduled_for=timezone.now() + dt.timedelta(minutes=10))

    response = coordinator_client.post(
        reverse("lobbying:briefing-create"),
        compose_data(body="Hi {first_name}", send_before_motion=briefing_motion.pk, minutes_before=30),
    )

    assert response.status_code == 400
    assert "already past" in " ".join(response.context["form"].errors["minutes_before"])
    assert not Briefing.objects.exists()


def test_a_draft_is_scheduled_and_unscheduled_from_its_page(
    coordinator_client, conference, coordinator, briefing_motion
):
    audience_of(conference, 1)
    briefing = briefings.compose_briefing(conference=conference, body="Hi {first_name}", created_by=coordinator)

    refused = coordinator_client.post(reverse("lobbying:briefing-schedule", args=[briefing.pk]), {"send_at": ""})
    done = coordinator_client.post(
        reverse("lobbying:briefing-schedule", args=[briefing.pk]), {"send_at": _typed(hours=1)}
    )
    briefing.refresh_from_db()
    scheduled = briefing.status
    back = coordinator_client.post(reverse("lobbying:briefing-action", args=[briefing.pk, "unschedule"]))

    assert refused.status_code == 400 and "Give a time" in refused.content.decode()
    assert done.status_code == back.status_code == 302
    assert scheduled == Briefing.Status.SCHEDULED
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.DRAFT


def test_pause_resume_and_cancel_from_the_page_and_a_refusal_says_why(
    coordinator_client, conference, coordinator, briefing_motion, sms, dispatched
):
    audience_of(conference, 3)
    briefing = sent_briefing(conference, coordinator, briefing_motion)
    action = lambda name: reverse("lobbying:briefing-action", args=[briefing.pk, name])  # noqa: E731

    coordinator_client.post(action("pause"))
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.PAUSED
    page = coordinator_client.get(reverse("lobbying:briefing-detail", args=[briefing.pk])).content.decode()
    assert "Resume" in page and 'data-count="held">3<' in page

    again = coordinator_client.post(action("pause"))
    assert again.status_code == 400 and "Only a briefing that is sending can be paused" in again.content.decode()

    coordinator_client.post(action("resume"))
    coordinator_client.post(action("cancel"), {"reason": "the vote moved"})
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.CANCELLED
    assert selectors.briefing_progress(briefing=briefing).skipped == 3
    page = coordinator_client.get(reverse("lobbying:briefing-detail", args=[briefing.pk])).content.decode()
    assert page.count('<td data-label="Why">Cancelled</td>') == 3
    fragment = coordinator_client.get(reverse("lobbying:briefing-progress", args=[briefing.pk])).content.decode()
    assert "data-still-live" not in fragment  # polling stops once cancelled (or sent)
    assert coordinator_client.post(action("explode")).status_code == 404


def test_a_saved_list_narrows_the_audience_and_a_test_text_goes_to_my_own_mobile(
    coordinator_client, conference, coordinator, briefing_motion, sms
):
    people = audience_of(conference, 3)
    fringe = briefings.create_saved_list(
        conference=conference, name="Fringe", created_by=coordinator, delegates=people[:2]
    )

    response = coordinator_client.post(
        reverse("lobbying:briefing-create"), compose_data(body="Hi {first_name}", saved_list=fringe.pk)
    )
    briefing = Briefing.objects.get()
    assert response.status_code == 302 and briefing.saved_list == fringe
    assert briefings.preview_briefing(briefing=briefing).count == 2

    test_url = reverse("lobbying:briefing-test-send", args=[briefing.pk])
    refused = coordinator_client.post(test_url)
    sent = coordinator_client.post(test_url, {"mobile": "07700 900555"})

    assert refused.status_code == 400 and "no mobile number for test texts" in refused.content.decode()
    assert sent.status_code == 302
    test_text = OutboundMessage.objects.get()
    assert (test_text.to, test_text.body.split(": ", 1)[1].startswith("[TEST] Hi Ada0")) == ("+447700900555", True)
    assert not BriefingRecipient.objects.exists()  # a test freezes no audience
