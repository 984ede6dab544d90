"""Briefing pages: live progress and the report in a fixed number of queries, compose / preview / send pages
that show the service's errors on their fields, and a send that a double click cannot repeat."""

import uuid

import pytest

from lobbying import briefings, selectors, services
from lobbying.models import BriefingRecipient, Motion
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


@pytest.fixture
def dispatched(monkeypatch):
    """The dispatcher tasks send_batch would publish after commit (lists of outbox ids): no worker here."""
    calls = []
    monkeypatch.setattr(messaging_services, "dispatch", lambda ids: calls.append(list(ids)) or True)
    return calls


@pytest.fixture
def motion(conference):
    motion = services.create_motion(conference=conference, title="Scrap the cap", text="Conference notes.")
    Motion.objects.filter(pk=motion.pk).update(kind=Motion.Kind.COMPOSITE, composite_number=3)
    motion.refresh_from_db()
    return motion


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


def sent_briefing(conference, coordinator, motion, *, body="Hi {first_name}: vote FOR {motion}", **filters):
    briefing = briefings.compose_briefing(
        conference=conference, body=body, created_by=coordinator, motion=motion, **filters
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


def test_progress_counts_each_outcome_and_replies_and_the_share_done(conference, coordinator, motion, sms, dispatched):
    audience_of(conference, 10)
    briefing = sent_briefing(conference, coordinator, motion)
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
    conference, coordinator, motion, sms, dispatched
):
    audience_of(conference, 3)
    other = sent_briefing(conference, coordinator, motion)
    draft = briefings.compose_briefing(conference=conference, body="Hi {first_name}", created_by=coordinator)

    assert selectors.briefing_progress(briefing=draft).total == 0
    assert selectors.briefing_progress(briefing=draft).percent_done == 0.0
    assert selectors.briefing_progress(briefing=other).total == 3


def _progress_queries(conference, coordinator, motion, size, django_assert_max_num_queries, start):
    people = audience_of(conference, size, start=start)
    briefing = sent_briefing(conference, coordinator, motion, organisations=[people[0].organisation])
    settle(briefing, [(Status.DELIVERED, "", size // 2), (Status.FAILED, "30005", 1)])
    reply_to(outbox_of(briefing).first())
    # One query: the conditional counts over this briefing's outbox rows, the replies as an EXISTS.
    with django_assert_max_num_queries(1) as captured:
        progress = selectors.briefing_progress(briefing=briefing)
    assert progress.total == size
    return len(captured.captured_queries)


def test_progress_is_one_query_for_5_or_120_recipients(
    conference, coordinator, motion, sms, dispatched, django_assert_max_num_queries
):
    small = _progress_queries(conference, coordinator, motion, 5, django_assert_max_num_queries, 0)
    big = _progress_queries(conference, coordinator, motion, 120, django_assert_max_num_queries, 100)
    assert small == big == 1


# Report ------------------------------------------------------------------------------------------------------------


def test_the_report_explains_failures_and_skips_and_lists_replies_with_who(
    conference, coordinator, motion, sms, dispatched
):
    people = audience_of(conference, 6)
    briefing = sent_briefing(conference, coordinator, motion)
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
