"""Briefings: merge fields checked at compose time, an audience frozen from textable delegates only, and every
text queued once through messaging's send_batch, in a number of queries that does not grow with the audience."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegates.models import Region, Section
from lobbying import briefings, services
from lobbying.models import Briefing, BriefingRecipient, BriefingStatusChange, Level, StanceChange
from messaging import services as messaging_services
from messaging.models import OptOut, OutboundMessage
from messaging.text import privacy_line
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory, UnionFactory, UserFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgres():
    require_postgres()


def consenting(**kwargs):
    delegate = DelegateFactory(**kwargs)
    SmsConsentFactory(delegate=delegate)
    return delegate


def compose(conference, coordinator, body="Hi {first_name} of {organisation}: vote FOR {motion}", **kwargs):
    return briefings.compose_briefing(conference=conference, body=body, created_by=coordinator, **kwargs)


def test_merge_fields_fill_in_each_recipients_own_name_organisation_and_motion(
    conference, coordinator, briefing_motion, sms, dispatched
):
    wirral = OrganisationFactory(name="Wirral West", region=Region.NORTH_WEST)
    ada = consenting(conference=conference, organisation=wirral, first_name="Ada", mobile="+447700900001")
    briefing = compose(conference, coordinator, motion=briefing_motion)

    preview = briefings.preview_briefing(briefing=briefing)
    assert preview.count == 1
    # Ada's first campaign text from us also links the privacy notice: the preview shows it and counts it.
    assert preview.examples[0].text == (
        "Free Movement: Hi Ada of Wirral West: vote FOR Composite 3: Scrap the cap\nReply STOP to opt out\n"
        + privacy_line()
    )
    assert preview.examples[0].first_contact and preview.first_contacts == 1
    assert (preview.segments, str(preview.cost)) == (1, "0.0400")  # 4p a segment in the test settings

    result = briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    assert (result.recipients, result.queued, result.already_queued) == (1, 1, 0)
    recipient = BriefingRecipient.objects.get(briefing=briefing)
    assert recipient.delegate == ada
    assert recipient.body == "Hi Ada of Wirral West: vote FOR Composite 3: Scrap the cap"
    assert recipient.idempotency_key == f"briefing:{briefing.pk}:delegate:{ada.pk}"
    message = OutboundMessage.objects.get(idempotency_key=recipient.idempotency_key)
    assert (message.to, message.body, message.purpose) == ("+447700900001", preview.examples[0].text, "briefing")
    assert message.segments == preview.segments
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.SENDING
    history = list(BriefingStatusChange.objects.filter(briefing=briefing).values_list("from_status", "to_status"))
    assert history == [("", "draft"), ("draft", "sending")]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Hi {name}, vote FOR", "{name}"),
        ("Hi {first_name}, see {Motion}", "{Motion}"),
        ("Hi {first_name!r}", "{first_name!r}"),
    ],
)
def test_an_unknown_merge_field_is_a_body_error_naming_it(conference, coordinator, briefing_motion, body, named):
    with pytest.raises(ValidationError) as caught:
        compose(conference, coordinator, body=body, motion=briefing_motion)
    assert named in " ".join(caught.value.message_dict["body"])
    assert not Briefing.objects.exists()


def test_an_unclosed_brace_or_motion_field_without_a_motion_is_a_body_error(conference, coordinator):
    with pytest.raises(ValidationError) as caught:
        compose(conference, coordinator, body="Hi {first_name")
    assert "brace" in " ".join(caught.value.message_dict["body"])
    with pytest.raises(ValidationError) as caught:
        compose(conference, coordinator, body="Vote FOR {motion}")
    assert "needs a motion" in " ".join(caught.value.message_dict["body"])


def test_a_body_over_the_briefing_segment_limit_is_refused(conference, coordinator):
    with pytest.raises(ValidationError) as caught:
        compose(conference, coordinator, body="Vote FOR composite 3. " * 25)
    assert f"may use {briefings.MAX_BRIEFING_SEGMENTS}" in " ".join(caught.value.message_dict["body"])
    compose(conference, coordinator, body="Vote FOR composite 3. " * 5)  # within the limit: fine


def test_stance_filters_without_a_motion_and_unknown_levels_are_field_errors(conference, coordinator, briefing_motion):
    with pytest.raises(ValidationError) as caught:
        compose(conference, coordinator, body="Vote FOR", stance_levels=[Level.FOR])
    assert "stance_levels" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        compose(
            conference, coordinator, body="Vote FOR", motion=briefing_motion, stance_levels=["keen"], regions=["Mars"]
        )
    assert set(caught.value.message_dict) == {"stance_levels", "regions"}


def test_an_empty_audience_is_a_clear_error_and_writes_nothing(
    conference, coordinator, briefing_motion, sms, dispatched
):
    DelegateFactory(conference=conference)  # no consent
    briefing = compose(conference, coordinator, motion=briefing_motion)
    with pytest.raises(ValidationError) as caught:
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    assert "nobody to text" in " ".join(caught.value.message_dict["audience"])
    assert not BriefingRecipient.objects.exists()
    assert not OutboundMessage.objects.exists()
    briefing.refresh_from_db()
    assert briefing.status == Briefing.Status.DRAFT


def test_opted_out_and_no_consent_delegates_are_left_out_of_the_frozen_audience(
    conference, coordinator, briefing_motion, sms, dispatched
):
    keen = consenting(conference=conference, mobile="+447700900010")
    stopped = consenting(conference=conference, mobile="+447700900011")
    OptOut.objects.create(number=stopped.mobile)
    DelegateFactory(conference=conference, mobile="+447700900012")  # never consented
    withdrawn = consenting(conference=conference, mobile="+447700900013")
    withdrawn.sms_consents.update(withdrawn_at=timezone.now())
    consenting(conference=conference, mobile="")  # consent but no mobile
    briefing = compose(conference, coordinator, motion=briefing_motion)

    assert briefings.preview_briefing(briefing=briefing).count == 1
    result = briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    assert result.recipients == 1
    assert list(BriefingRecipient.objects.values_list("delegate", flat=True)) == [keen.pk]
    assert list(OutboundMessage.objects.values_list("to", flat=True)) == [keen.mobile]


def test_sending_twice_queues_nothing_twice(
    conference, coordinator, second_coordinator, briefing_motion, sms, dispatched
):
    for n in range(3):
        consenting(conference=conference, mobile=f"+4477009001{n:02d}")
    briefing = compose(conference, coordinator, motion=briefing_motion)
    first = briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    consenting(conference=conference, mobile="+447700900199")  # joins after the audience was frozen
    second = briefings.send_briefing(briefing=briefing, sent_by=second_coordinator)
    assert (first.queued, first.already_queued) == (3, 0)
    assert (second.recipients, second.queued, second.already_queued) == (3, 0, 3)
    assert OutboundMessage.objects.count() == 3
    assert BriefingRecipient.objects.count() == 3
    assert BriefingStatusChange.objects.filter(briefing=briefing, to_status="sending").count() == 1


def test_a_cancelled_or_expired_briefing_is_refused(conference, coordinator, briefing_motion, sms, dispatched):
    consenting(conference=conference)
    late = compose(
        conference, coordinator, motion=briefing_motion, useless_after=timezone.now() - dt.timedelta(minutes=1)
    )
    with pytest.raises(ValidationError) as caught:
        briefings.send_briefing(briefing=late, sent_by=coordinator)
    assert "useless_after" in caught.value.message_dict
    cancelled = compose(conference, coordinator, motion=briefing_motion)
    Briefing.objects.filter(pk=cancelled.pk).update(status=Briefing.Status.CANCELLED)
    with pytest.raises(ValidationError):
        briefings.send_briefing(briefing=cancelled, sent_by=coordinator)
    assert not OutboundMessage.objects.exists()


def test_the_audience_follows_stance_section_region_and_organisation_filters(conference, coordinator, briefing_motion):
    wirral = OrganisationFactory(name="Wirral West", region=Region.NORTH_WEST)
    hackney = OrganisationFactory(name="Hackney South", region=Region.LONDON)
    gmb = UnionFactory(name="GMB")
    people = {
        "nw_for": consenting(conference=conference, organisation=wirral),
        "nw_undecided": consenting(conference=conference, organisation=wirral),
        "nw_unknown": consenting(conference=conference, organisation=wirral),
        "ldn_for": consenting(conference=conference, organisation=hackney),
        "gmb_for": consenting(conference=conference, organisation=gmb),
    }
    for who, level in [("nw_for", Level.FOR), ("nw_undecided", Level.UNDECIDED), ("ldn_for", Level.FOR),
                       ("gmb_for", Level.FOR)]:  # fmt: skip
        services.record_stance(
            delegate=people[who], motion=briefing_motion, level=level, source=StanceChange.Source.COORDINATOR
        )

    def picked(**filters):
        briefing = compose(conference, coordinator, body="Vote FOR", motion=briefing_motion, **filters)
        ids = set(briefings.audience(briefing).values_list("pk", flat=True))
        return {who for who, delegate in people.items() if delegate.pk in ids}

    assert picked() == set(people)
    assert picked(stance_levels=[Level.FOR]) == {"nw_for", "ldn_for", "gmb_for"}
    assert picked(stance_levels=[Level.UNDECIDED, "unknown"]) == {"nw_undecided", "nw_unknown"}
    assert picked(stance_levels=[Level.FOR], sections=[Section.CLP]) == {"nw_for", "ldn_for"}
    assert picked(sections=[Section.AFFILIATES]) == {"gmb_for"}
    assert picked(regions=[Region.NORTH_WEST], stance_levels=[Level.FOR]) == {"nw_for"}
    assert picked(organisations=[hackney, gmb]) == {"ldn_for", "gmb_for"}


def test_the_preview_counts_the_privacy_line_only_where_a_recipient_gets_their_first_text(
    conference, coordinator, briefing_motion, sms, dispatched
):
    """A mix: never texted; texted before (no line); texted before but that text was skipped (still a first
    text). A body long enough that the privacy line makes a second segment: the preview's examples, segments
    and cost must be exactly what send_batch writes."""
    wirral = OrganisationFactory(name="Wirral West", region=Region.NORTH_WEST)
    new = consenting(conference=conference, organisation=wirral, first_name="Ada", mobile="+447700900001")
    known = consenting(conference=conference, organisation=wirral, first_name="Bo", mobile="+447700900002")
    skipped_before = consenting(conference=conference, organisation=wirral, first_name="Cy", mobile="+447700900003")
    also_new = consenting(conference=conference, organisation=wirral, first_name="Di", mobile="+447700900004")
    earlier = messaging_services.send_sms(to=known.mobile, body="Welcome to conference", key="earlier:bo", purpose="t")
    assert privacy_line() in earlier.body
    messaging_services.opt_out(skipped_before.mobile, source="coordinator")
    messaging_services.send_sms(to=skipped_before.mobile, body="Welcome", key="earlier:cy", purpose="t")
    messaging_services.opt_in(skipped_before.mobile, source="coordinator")
    body = "Hi {first_name} of {organisation}: {motion} is up after lunch, please be in the hall and vote FOR."
    briefing = compose(conference, coordinator, motion=briefing_motion, body=body)

    preview = briefings.preview_briefing(briefing=briefing)
    shown = {e.delegate_id: (e.first_contact, e.segments) for e in preview.examples}
    assert shown == {new.pk: (True, 2), known.pk: (False, 1), skipped_before.pk: (True, 2)}
    for example in preview.examples:
        assert example.text.endswith(privacy_line()) == example.first_contact
    assert (preview.count, preview.first_contacts, preview.segments, preview.max_segments) == (4, 3, 7, 2)

    briefings.send_briefing(briefing=briefing, sent_by=coordinator)
    sent = list(OutboundMessage.objects.filter(batch=f"briefing:{briefing.pk}"))
    bodies = {m.idempotency_key.rsplit(":", 1)[1]: m.body for m in sent}
    for example in preview.examples:
        assert bodies[str(example.delegate_id)] == example.text
    assert privacy_line() in bodies[str(also_new.pk)]
    assert sum(m.segments for m in sent) == preview.segments
    assert preview.cost == sum(m.cost_estimate for m in sent)


def _queries_to_preview_and_send(conference, coordinator, briefing_motion, size):
    delegation = OrganisationFactory(region=Region.NORTH_WEST)
    for _ in range(size):
        delegate = consenting(conference=conference, organisation=delegation)
        services.record_stance(
            delegate=delegate, motion=briefing_motion, level=Level.FOR, source=StanceChange.Source.COORDINATOR
        )
    briefing = compose(
        conference, coordinator, motion=briefing_motion, stance_levels=[Level.FOR], organisations=[delegation]
    )
    with CaptureQueriesContext(connection) as previewing:
        assert briefings.preview_briefing(briefing=briefing).count == size
    with CaptureQueriesContext(connection) as sending:
        assert briefings.send_briefing(briefing=briefing, sent_by=coordinator).queued == size
    return len(previewing), len(sending)


def test_previewing_and_sending_take_the_same_queries_for_10_or_200_recipients(
    conference, coordinator, briefing_motion, sms, dispatched
):
    small = _queries_to_preview_and_send(conference, coordinator, briefing_motion, 10)
    large = _queries_to_preview_and_send(conference, coordinator, briefing_motion, 200)
    assert small == large
    # preview: the motion, the audience; send: lock, frozen check, audience, recipients insert, send_batch's
    # nine (the batch's state, existing keys, opt-outs, consent from delegates, volunteers and coordinators,
    # numbers texted before, outbox, history), status update, history row, and savepoints around them.
    assert small[0] <= 2
    assert small[1] <= 19


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["briefing", "briefingrecipient"])
def test_the_briefing_admin_lists_take_the_same_queries_at_two_sizes_and_cannot_add(
    admin_client, conference, coordinator, briefing_motion, sms, dispatched, model, django_assert_max_num_queries
):
    url = reverse(f"admin:lobbying_{model}_changelist")

    def fill(count):
        for _ in range(count):
            consenting(conference=conference)
        briefing = compose(conference, coordinator, motion=briefing_motion)
        briefings.send_briefing(briefing=briefing, sent_by=coordinator)
        BriefingRecipient.objects.exclude(briefing=briefing).delete()  # each size on its own

    fill(3)
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(url).status_code == 200
    fill(40)
    with django_assert_max_num_queries(len(small)):
        page = admin_client.get(url)
    assert page.status_code == 200
    assert admin_client.get(reverse(f"admin:lobbying_{model}_add")).status_code == 403


def test_a_briefing_cannot_be_edited_in_the_admin(admin_client, conference, coordinator, briefing_motion):
    briefing = compose(conference, coordinator, motion=briefing_motion, body="Vote FOR")
    url = reverse("admin:lobbying_briefing_change", args=[briefing.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "draft" in page.content.decode()
    admin_client.post(url, {"body": "Vote {nonsense}", "status": "sent"})
    briefing.refresh_from_db()
    assert (briefing.body, briefing.status) == ("Vote FOR", Briefing.Status.DRAFT)
