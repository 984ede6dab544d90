"""Erasure on request: each app's anonymisation, the whole erasure with its audit record, and the pages.

The promise to check: after an erasure the person is identifiable nowhere, whip totals and delivery figures are
exactly what they were, and nothing is texted to them again, including texts already queued or being sent.
"""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from delegates.models import Delegate, SmsConsent
from delegates.services import erase_delegates, record_sms_consent
from lobbying import selectors
from lobbying import services as lobbying_services
from lobbying.models import Level, LobbyingAssignment, StanceChange
from messaging import services as messaging_services
from messaging import tasks
from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage
from messaging.privacy import ERASED_NUMBER, erase_numbers, number_hash
from privacy import erasure
from privacy.models import AuditEvent
from tests.factories import CoordinatorFactory, DelegateFactory, OrganisationFactory, UnionFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)
from tests.volunteers.support import ShiftFactory, VolunteerFactory, at
from volunteers import services as volunteer_services
from volunteers.models import Signup, Volunteer

pytestmark = pytest.mark.django_db
Status = OutboundMessage.Status
ADA = "+447700900101"
BEN = "+447700900102"
VAL = "+447700900201"


@pytest.fixture
def motion(conference):
    return lobbying_services.create_motion(
        conference=conference, title="Scrap the two-child limit", text="Conference notes the limit."
    )


@pytest.fixture
def ada(conference, coordinator, motion):
    """A delegate with consent naming her, a stance history with notes, and a conversation."""
    clp = OrganisationFactory(name="Wirral West", membership=1000)
    ada = DelegateFactory(
        conference=conference, organisation=clp, first_name="Ada", last_name="Lovelace", mobile=ADA,
        email="ada@example.org", notes="Met her at the fringe; partner works for the union.",
    )  # fmt: skip
    DelegateFactory(conference=conference, organisation=clp, first_name="Ben", last_name="Brown", mobile=BEN)
    record_sms_consent(
        delegate=ada,
        method=SmsConsent.Method.IN_PERSON,
        wording="Ada Lovelace agreed at the stall.",
        recorded_by=coordinator,
    )
    lobbying_services.record_stance(
        delegate=ada, motion=motion, level=Level.UNDECIDED, source=StanceChange.Source.COORDINATOR,
        recorded_by=coordinator, note="Worried about cost", at=timezone.now() - dt.timedelta(days=2),
    )  # fmt: skip
    lobbying_services.record_stance(
        delegate=ada, motion=motion, level=Level.FOR, source=StanceChange.Source.CONVERSATION,
        recorded_by=coordinator, note="Convinced; will speak", at=timezone.now() - dt.timedelta(hours=1),
    )  # fmt: skip
    return ada


def whip(conference, motion, **kwargs):
    return selectors.whip_counts(conference=conference, motions=[motion], **kwargs)


# --- Each app's part ------------------------------------------------------------------------------------------------


def test_erasing_a_delegate_keeps_whip_totals_now_and_as_of_earlier(conference, motion, ada):
    union = UnionFactory(name="GMB")
    u1 = DelegateFactory(conference=conference, organisation=union, mobile="+447700900301")
    lobbying_services.record_stance(delegate=u1, motion=motion, level=Level.AGAINST, source="coordinator")
    earlier = timezone.now() - dt.timedelta(days=1)
    before, before_earlier = whip(conference, motion), whip(conference, motion, as_of=earlier)

    counts = erase_delegates(delegate_ids=[ada.pk])

    assert counts == {"delegates": 1, "consents": 1}
    assert whip(conference, motion) == before
    assert whip(conference, motion, as_of=earlier) == before_earlier
    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.mobile, ada.email, ada.notes) == ("", "", "", "", "")
    assert ada.erased_at is not None and ada.is_attending and ada.organisation.name == "Wirral West"
    assert ada.full_name == "(name erased)"


def test_a_delegates_consent_stays_as_evidence_without_wording_that_names_her(ada):
    given_at = ada.sms_consents.get().given_at
    erase_delegates(delegate_ids=[ada.pk])
    consent = SmsConsent.objects.get(delegate=ada)
    assert consent.given_at == given_at and consent.withdrawn_at is not None
    assert consent.method == SmsConsent.Method.IN_PERSON
    assert "Ada" not in consent.wording and "Lovelace" not in consent.wording


def test_generic_consent_wording_is_kept(conference):
    delegate = DelegateFactory(conference=conference, first_name="Cy", last_name="Dee", mobile="+447700900401")
    wording = "I agree to receive texts about conference votes."
    record_sms_consent(delegate=delegate, method=SmsConsent.Method.WEB_FORM, wording=wording)
    erase_delegates(delegate_ids=[delegate.pk])
    assert SmsConsent.objects.get(delegate=delegate).wording == wording


def test_stance_notes_are_blanked_but_levels_times_and_recorder_stay(ada, coordinator):
    rows_before = list(StanceChange.objects.filter(delegate=ada).values_list("level", "at", "source", "recorded_by"))
    counts = lobbying_services.erase_lobbying_records(delegate_ids=[ada.pk])
    assert counts["stance_notes"] == 2
    assert list(StanceChange.objects.filter(delegate=ada).values_list("level", "at", "source", "recorded_by")) == (
        rows_before
    )
    assert set(StanceChange.objects.filter(delegate=ada).values_list("note", flat=True)) == {""}
    assert lobbying_services.erase_lobbying_records(delegate_ids=[ada.pk])["stance_notes"] == 0


def test_a_volunteers_lobbying_link_loses_name_and_mobile_and_is_revoked(ada, motion):
    assignment = lobbying_services.create_assignment(
        motion=motion, volunteer_name="Val Jones", volunteer_mobile=VAL, delegates=[ada], ask="Ask about the cap."
    )
    lobbying_services.record_conversation(assignment=assignment, delegate_id=ada.pk, level=Level.FOR, note="Yes")
    counts = lobbying_services.erase_lobbying_records(volunteer_mobiles=[VAL])
    assignment.refresh_from_db()
    assert counts["assignments"] == 1
    assert (assignment.volunteer_name, assignment.volunteer_mobile) == ("", "")
    assert assignment.revoked_at is not None
    assert not StanceChange.objects.filter(recorded_by_name="Val Jones").exists()


def test_a_volunteer_is_anonymised_past_shifts_kept_upcoming_place_passed_on(conference, sms):
    with time_machine.travel(at(27, 12), tick=False):
        past = ShiftFactory(conference=conference, starts_at=at(27, 9))
        upcoming = ShiftFactory(conference=conference, starts_at=at(28, 9), capacity=1, minimum=1)
    with time_machine.travel(at(26, 8), tick=False):
        val = VolunteerFactory(name="Val Jones", mobile=VAL, email="val@example.org")
        waiting = VolunteerFactory(name="Wes Waiting", mobile="+447700900202")
        volunteer_services.sign_up(shift=past, volunteer=val, source="public")
        volunteer_services.sign_up(shift=upcoming, volunteer=val, source="public")
        volunteer_services.sign_up(shift=upcoming, volunteer=waiting, source="public")
    with time_machine.travel(at(27, 12), tick=False):
        counts = volunteer_services.erase_volunteers(volunteer_ids=[val.pk])
    assert counts == {"volunteers": 1, "signups_cancelled": 1}
    val.refresh_from_db()
    assert (val.name, val.email, val.mobile) == ("", "", f"erased-{val.pk}")
    assert str(val) == "(name erased)"
    assert Signup.objects.get(shift=past, volunteer=val).status == Signup.Status.CONFIRMED
    assert Signup.objects.get(shift=upcoming, volunteer=val).status == Signup.Status.CANCELLED
    assert Signup.objects.get(shift=upcoming, volunteer=waiting).status == Signup.Status.OFFERED
    assert val not in volunteer_services.volunteers_free_for(upcoming, now=at(27, 12))
    assert volunteer_services.erase_volunteers(volunteer_ids=[val.pk]) == {"volunteers": 0, "signups_cancelled": 0}


def test_messaging_keeps_statuses_and_counts_but_not_bodies_or_the_number(sms, everyone_consents):
    sent = messaging_services.send_sms(to=ADA, body="Vote FOR composite 3", key="k-sent", purpose="briefing")
    waiting = messaging_services.send_sms(to=ADA, body="Vote FOR tomorrow", key="k-wait", purpose="briefing")
    other = messaging_services.send_sms(to=BEN, body="Vote FOR composite 3", key="k-ben", purpose="briefing")
    sms.commit()
    assert tasks.deliver(sent.pk) == "sent"
    messaging_services.receive_inbound(
        from_number=ADA, to_number="+447700900999", body="Count me in, Ada", provider_sid="SM-in-1"
    )
    figures_before = dict(OutboundMessage.objects.values_list("pk", "status"))

    counts = erase_numbers(numbers=[ADA])

    assert counts == {"texts_skipped": 1, "texts": 2, "replies": 1, "opt_out_events": 0}
    sent.refresh_from_db(), waiting.refresh_from_db(), other.refresh_from_db()
    assert (sent.status, sent.to, sent.body) == (Status.SENT, ERASED_NUMBER, "")
    assert (waiting.status, waiting.error_code) == (Status.SKIPPED, "erased")
    assert waiting.status_changes.last().reason == "erased"
    assert other.to == BEN and other.body
    # Delivery figures unchanged: only the waiting text moved, to skipped.
    assert dict(OutboundMessage.objects.values_list("pk", "status")) == {**figures_before, waiting.pk: Status.SKIPPED}
    reply = InboundMessage.objects.get()
    assert (reply.from_number, reply.body, reply.handled) == (ERASED_NUMBER, "", True)
    assert not OptOutEvent.objects.filter(number=ADA).exists()
    opt_out = OptOut.objects.get()
    assert (opt_out.number, opt_out.number_hash, opt_out.opted_out) == ("", number_hash(ADA), True)
    assert tasks.deliver(waiting.pk) == "not-claimed"
    assert [m.to for m in sms.outbox] == [ADA]  # only the text sent before the erasure
    assert erase_numbers(numbers=[ADA]) == dict.fromkeys(counts, 0)
    # Never texted again: a later text to the number is skipped.
    later = messaging_services.send_sms(to=ADA, body="One more thing", key="k-later", purpose="briefing")
    assert later.status == Status.SKIPPED


# --- The erasure as a whole ---------------------------------------------------------------------------------------


def test_erasure_during_a_briefing_send_lets_nothing_out_afterwards(conference, ada, sms, monkeypatch):
    """Three texts of a briefing: one sent, one held by a worker waiting for its rate-limit slot when the erasure
    commits, one still queued. Only the first ever reaches the provider."""
    batch = messaging_services.send_batch(
        [(ADA, "Vote FOR at 2pm", f"briefing:1:delegate:{ada.pk}:{n}") for n in range(3)], purpose="briefing"
    )
    sms.commit()
    first, waiting, queued = batch.queued
    assert tasks.deliver(first) == "sent"
    coordinator = CoordinatorFactory(username="dpo")

    def erasure_while_waiting_for_a_slot(*, still_wanted, **kwargs):
        erasure.erase(plan=erasure.plan_erasure(lookup=erasure.find_person(query=ADA)), actor=coordinator)
        assert not still_wanted()  # the look the waiting worker takes before its next try
        return None

    monkeypatch.setattr(tasks.ratelimit, "acquire", erasure_while_waiting_for_a_slot)
    assert tasks.deliver(waiting) == "skipped"
    assert tasks.deliver(queued) == "not-claimed"
    assert len(sms.outbox) == 1
    statuses = dict(OutboundMessage.objects.values_list("pk", "status"))
    assert statuses == {first: Status.SENT, waiting: Status.SKIPPED, queued: Status.SKIPPED}
    assert OutboundMessage.objects.get(pk=waiting).error_code == "erased"


def test_texts_held_in_a_paused_briefing_are_skipped_and_never_sent_on_resume(ada, sms, everyone_consents):
    batch = messaging_services.send_batch(
        [(ADA, "Vote FOR at 2pm", "briefing:2:delegate:1"), (BEN, "Vote FOR at 2pm", "briefing:2:delegate:2")],
        purpose="briefing",
        batch="briefing:2",
    )
    messaging_services.hold_batch("briefing:2")
    erase_numbers(numbers=[ADA])
    messaging_services.release_batch("briefing:2")
    sms.commit()
    for pk in batch.queued:
        tasks.deliver(pk)
    assert [m.to for m in sms.outbox] == [BEN]
    assert OutboundMessage.objects.get(pk=batch.queued[0]).error_code == "erased"


def test_a_whole_erasure_is_recorded_with_counts_and_no_personal_data(conference, ada, coordinator, sms):
    messaging_services.send_sms(to=ADA, body="Vote FOR composite 3, Ada", key="k1", purpose="briefing")
    lookup = erasure.find_person(query="07700 900101")
    assert [r.name for r in lookup.records] == ["Ada Lovelace"]

    result = erasure.erase(plan=erasure.plan_erasure(lookup=lookup), actor=coordinator)

    event = AuditEvent.objects.get()
    assert result.event == event
    assert (event.action, event.actor, event.count) == (AuditEvent.Action.ERASURE, coordinator, 1)
    assert event.detail["counts"]["delegates"] == 1 and event.detail["counts"]["texts"] == 1
    text = f"{event.what} {event.detail}"
    for personal in ("Ada", "Lovelace", "900101", "ada@example.org"):
        assert personal not in text
    assert erasure.find_person(query=ADA).records == []
    assert Delegate.objects.filter(first_name="Ben").exists()  # the delegation's other delegate untouched


def test_erasing_twice_finds_nothing_left_and_records_nothing_more(ada, coordinator):
    plan = erasure.plan_erasure(lookup=erasure.find_person(query="ada@example.org"))
    assert not erasure.erase(plan=plan, actor=coordinator).nothing_left
    again = erasure.erase(plan=plan, actor=coordinator)
    assert again.nothing_left and not any(again.counts.values())
    assert AuditEvent.objects.count() == 1


def test_the_preview_counts_exactly_what_the_erasure_does_and_writes_nothing(ada, coordinator, sms):
    messaging_services.send_sms(to=ADA, body="Vote FOR composite 3", key="k1", purpose="briefing")
    plan = erasure.plan_erasure(lookup=erasure.find_person(query=ADA))
    preview = erasure.preview_erasure(plan=plan)
    ada.refresh_from_db()
    assert ada.first_name == "Ada" and OutboundMessage.objects.get().status == Status.QUEUED
    assert not AuditEvent.objects.exists()
    assert erasure.erase(plan=plan, actor=coordinator).counts == preview


def test_several_records_sharing_an_email_can_be_erased_one_at_a_time(conference, coordinator):
    older = DelegateFactory(conference=conference, email="shared@example.org", mobile="+447700900501")
    newer = DelegateFactory(conference=conference, email="Shared@Example.org", mobile="+447700900502")
    lookup = erasure.find_person(query="shared@example.org")
    assert {r.pk for r in lookup.records} == {older.pk, newer.pk}
    erasure.erase(plan=erasure.plan_erasure(lookup=lookup, keys=[f"delegate:{older.pk}"]), actor=coordinator)
    older.refresh_from_db(), newer.refresh_from_db()
    assert older.erased_at and not newer.erased_at and newer.mobile == "+447700900502"


def test_a_query_that_is_neither_a_mobile_nor_an_email_says_what_to_type(db):
    for bad in ("", "hello", "0151 123 4567", "not@an@email"):
        with pytest.raises(Exception) as error:
            erasure.find_person(query=bad)
        assert "query" in error.value.message_dict


# --- The pages --------------------------------------------------------------------------------------------------

ERASE = reverse("privacy:erase")


@pytest.fixture
def dpo_client(client):
    dpo = CoordinatorFactory(username="dpo")
    dpo.user_permissions.add(Permission.objects.get(codename="data_protection", content_type__app_label="privacy"))
    client.force_login(dpo)
    return client


def test_every_erasure_url_refuses_anonymous_outsiders_and_coordinators_without_the_permission(
    outsider, coordinator, conference
):
    event = AuditEvent.objects.create(action=AuditEvent.Action.ERASURE, what="Erasure on request")
    urls = [ERASE, reverse("privacy:erase-done", args=[event.pk])]
    anonymous, outsider_client, coordinator_client = Client(), Client(), Client()
    outsider_client.force_login(outsider)
    coordinator_client.force_login(coordinator)
    for url in urls:
        for response in (anonymous.get(url), anonymous.post(url, {"query": ADA})):
            assert response.status_code == 302 and "login" in response["Location"]
        for client in (outsider_client, coordinator_client):
            assert client.get(url).status_code == 403
            assert client.post(url, {"step": "find", "query": ADA}).status_code == 403
    assert not AuditEvent.objects.exclude(pk=event.pk).exists()


def test_find_preview_confirm_erase_in_the_pages(dpo_client, ada):
    page = dpo_client.post(ERASE, {"step": "find", "query": "07700 900101"})
    assert page.status_code == 200
    assert b"Ada Lovelace" in page.content and b"What would be erased" in page.content
    assert b"Notes on stance changes and conversations" in page.content

    refused = dpo_client.post(ERASE, {"step": "erase", "query": ADA, "record": f"delegate:{ada.pk}"})
    assert refused.status_code == 200 and b"Tick the box" in refused.content
    ada.refresh_from_db()
    assert ada.first_name == "Ada"

    done = dpo_client.post(ERASE, {"step": "erase", "query": ADA, "record": f"delegate:{ada.pk}", "confirm": "on"})
    event = AuditEvent.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("privacy:erase-done", args=[event.pk])
    assert "900101" not in done["Location"]
    shown = dpo_client.get(done["Location"])
    assert b"Delegate records" in shown.content and b"Ada" not in shown.content
    ada.refresh_from_db()
    assert ada.erased_at is not None

    again = dpo_client.post(ERASE, {"step": "erase", "query": ADA, "record": f"delegate:{ada.pk}", "confirm": "on"})
    assert b"Nothing left to erase" in again.content and b"This number was erased before" in again.content
    searched = dpo_client.post(ERASE, {"step": "find", "query": "07700 900101"})
    assert b"Nothing left to erase" in searched.content
    assert AuditEvent.objects.count() == 1


def test_an_unknown_person_gets_a_clear_answer_and_bad_input_a_field_error(dpo_client, db):
    unknown = dpo_client.post(ERASE, {"step": "find", "query": "nobody@example.org"})
    assert unknown.status_code == 200 and b"Nobody is held under" in unknown.content
    bad = dpo_client.post(ERASE, {"step": "find", "query": "01511234567"})
    assert bad.status_code == 200 and b"field-error" in bad.content
    empty = dpo_client.post(ERASE, {"step": "find"})
    assert empty.status_code == 200 and b"field-error" in empty.content


def test_several_records_sharing_an_email_are_listed_to_choose_from(dpo_client, conference):
    one = DelegateFactory(conference=conference, first_name="Sam", email="sam@example.org", mobile="+447700900601")
    VolunteerFactory(name="Sam Volunteer", email="sam@example.org", mobile="+447700900602")
    page = dpo_client.post(ERASE, {"step": "find", "query": "sam@example.org"})
    assert b"2 records match" in page.content and b"Sam Volunteer" in page.content
    none = dpo_client.post(ERASE, {"step": "preview", "query": "sam@example.org"})
    assert none.status_code == 400 and b"Choose at least one record" in none.content
    dpo_client.post(
        ERASE, {"step": "erase", "query": "sam@example.org", "record": f"delegate:{one.pk}", "confirm": "on"}
    )
    one.refresh_from_db()
    assert one.erased_at and Volunteer.objects.get(email="sam@example.org").name == "Sam Volunteer"
    assert LobbyingAssignment.objects.count() == 0


def test_a_number_known_only_from_a_lobbying_link_can_be_erased(dpo_client, ada, motion):
    lobbying_services.create_assignment(
        motion=motion, volunteer_name="Val Jones", volunteer_mobile=VAL, delegates=[ada], ask="Ask about the cap."
    )
    page = dpo_client.post(ERASE, {"step": "find", "query": VAL})
    assert b"What would be erased" in page.content and b"Lobbying links" in page.content
    dpo_client.post(ERASE, {"step": "erase", "query": VAL, "confirm": "on"})
    assert LobbyingAssignment.objects.get().volunteer_name == ""
    assert AuditEvent.objects.get().detail["counts"]["assignments"] == 1
