"""PECR: no campaign text is queued to a number without live consent, checked inside messaging's send paths.

messaging imports no domain app: delegates and volunteers register their consent checks (one query each for
any number of numbers). These tests run with the real registrations and no stand-in.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delegates.services import record_sms_consent, withdraw_sms_consent
from messaging import services
from messaging.models import OptOutEvent, OutboundMessage, OutboundStatusChange
from messaging.registry import (
    NO_CONSENT,
    ConsentDecision,
    check_consent,
    register_consent_check,
    unregister_consent_check,
)
from messaging.services import BatchText, send_batch, send_sms
from messaging.text import privacy_line
from tests.factories import ConferenceFactory, DelegateFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)

pytestmark = pytest.mark.django_db
Status = OutboundMessage.Status
WORDING = "I agree to texts from Free Movement about votes at conference. I can reply STOP."


def consenting(mobile, **kwargs):
    delegate = DelegateFactory(mobile=mobile, **kwargs)
    record_sms_consent(delegate=delegate, method="web_form", wording=WORDING)
    return delegate


def test_a_campaign_text_to_a_number_without_consent_is_skipped_saying_why_and_never_queued(sms):
    DelegateFactory(mobile="+447700900001")  # known, but never agreed to texts

    message = send_sms(to="07700 900001", body="Vote FOR composite 3", key="k1", purpose="briefing")

    assert message.status == Status.SKIPPED
    assert (message.error_code, message.error_message) == ("no_consent", "no SMS consent on record")
    assert message.consent_basis == "no SMS consent on record"
    assert OutboundStatusChange.objects.get(message=message).reason == "no SMS consent on record"
    sms.run_queued()
    assert sms.queued == [] and sms.outbox == []


def test_a_campaign_text_to_a_consenting_delegate_is_queued_and_names_the_consent_it_relied_on(sms):
    consenting("+447700900001")

    message = send_sms(to="+447700900001", body="Vote FOR composite 3", key="k1", purpose="briefing")

    assert message.status == Status.QUEUED
    assert message.consent_basis.startswith("delegate's SMS consent given ") and "(web form)" in message.consent_basis
    sms.run_queued()
    assert len(sms.outbox) == 1


def test_consent_withdrawn_between_composing_and_sending_skips_the_text_with_the_date(sms):
    delegate = consenting("+447700900001")
    composed = [BatchText(to=delegate.mobile, body="Vote FOR composite 3", key="b:1")]  # while consent was live
    withdraw_sms_consent(delegate=delegate, reason="asked in person to stop")

    result = send_batch(composed, purpose="briefing")
    single = send_sms(to=delegate.mobile, body="Vote FOR", key="s:1", purpose="briefing")

    today = timezone.localtime().strftime("%-d %b %Y")
    bulk = OutboundMessage.objects.get(pk=result.skipped[0])
    assert result.queued == []
    for message in (bulk, single):
        assert message.status == Status.SKIPPED
        assert message.error_message == f"consent withdrawn on {today}"
    sms.run_queued()
    assert sms.outbox == []


def test_consent_withdrawn_after_queueing_skips_the_text_at_delivery_with_the_queue_time_reason(sms):
    withdrawn = consenting("+447700900001")
    kept = consenting("+447700900002")
    first = send_sms(to=withdrawn.mobile, body="Vote FOR composite 3", key="k1", purpose="briefing")
    second = send_sms(to=kept.mobile, body="Vote FOR composite 3", key="k2", purpose="briefing")
    assert (first.status, second.status) == (Status.QUEUED, Status.QUEUED)

    withdraw_sms_consent(delegate=withdrawn, reason="asked in person to stop")  # after queueing, before a worker
    assert sms.run_queued() == ["skipped", "sent"]

    first.refresh_from_db()
    today = timezone.localtime().strftime("%-d %b %Y")
    assert (first.status, first.error_code) == (Status.SKIPPED, "no_consent")
    assert first.error_message == f"consent withdrawn on {today}"  # the words a queue-time skip uses
    last = OutboundStatusChange.objects.filter(message=first).latest("pk")
    assert (last.from_status, last.to_status, last.reason) == (Status.SENDING, Status.SKIPPED, first.error_message)
    assert [m.to for m in sms.outbox] == [kept.mobile]


def test_the_delivery_consent_check_costs_one_query_and_transactional_texts_skip_it(sms):
    from messaging import tasks

    delegate = consenting("+447700900001")
    marketing = send_sms(to=delegate.mobile, body="Vote FOR composite 3", key="k1", purpose="briefing")
    transactional = send_sms(to=delegate.mobile, body="Your shift", key="k2", purpose="shift", marketing=False)
    sms.commit()
    counts = {}
    for message in (marketing, transactional):
        with CaptureQueriesContext(connection) as captured:
            assert tasks.deliver(message.pk) == "sent"
        counts[message.pk] = len(captured)
    # The same claim, checks and record for both; the campaign text also asks the delegates' consent check.
    assert counts[marketing.pk] == counts[transactional.pk] + 1


def test_a_number_two_delegates_share_may_be_texted_when_one_of_them_consented(sms):
    number = "+447700900001"
    last_year = ConferenceFactory(name="Last year", slug="lab26", is_current=False)
    DelegateFactory(mobile=number, conference=last_year)  # no consent
    consenting(number)

    assert send_sms(to=number, body="Vote FOR", key="k1", purpose="briefing").status == Status.QUEUED
    assert len(send_batch([(number, "Vote FOR", "k2")], purpose="briefing").queued) == 1


def test_a_live_consent_beats_a_withdrawn_one_for_the_same_number_and_withdrawn_beats_none():
    shared, withdrawn = "+447700900001", "+447700900002"
    old = consenting(shared, conference=ConferenceFactory(name="Last year", slug="lab26", is_current=False))
    withdraw_sms_consent(delegate=old, reason="conference over")
    consenting(shared)
    gone = consenting(withdrawn)
    withdraw_sms_consent(delegate=gone, reason="asked to stop")

    decisions = check_consent({shared, withdrawn, "+447700900003"})

    assert decisions[shared].allowed
    assert not decisions[withdrawn].allowed and decisions[withdrawn].reason.startswith("consent withdrawn on ")
    assert decisions["+447700900003"] == NO_CONSENT


def test_transactional_texts_are_marked_so_and_not_consent_checked(sms):
    single = send_sms(to="+447700900009", body="Your shift starts at 9", key="k1", purpose="shift", marketing=False)
    batch = send_batch([("+447700900008", "Your shift starts at 9", "k2")], purpose="shift", marketing=False)

    bulk = OutboundMessage.objects.get(pk=batch.queued[0])
    for message in (single, bulk):
        assert message.status == Status.QUEUED and not message.marketing
        assert message.consent_basis == services.TRANSACTIONAL
        assert "Privacy:" not in message.body


def test_an_opt_out_still_wins_over_live_consent(sms):
    consenting("+447700900001")
    services.opt_out("+447700900001", source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")

    message = send_sms(to="+447700900001", body="Vote FOR", key="k1", purpose="briefing")

    assert (message.status, message.error_code) == (Status.SKIPPED, "opted_out")


def test_a_batch_queues_the_consenting_and_skips_the_rest_each_with_its_reason(sms):
    consenting("+447700900001")
    withdrawn = consenting("+447700900002")
    withdraw_sms_consent(delegate=withdrawn, reason="asked to stop")
    texts = [(f"+44770090000{n}", f"Vote FOR ({n})", f"b:{n}") for n in (1, 2, 3)]

    result = send_batch(texts, purpose="briefing")

    by_number = {m.to: m for m in OutboundMessage.objects.all()}
    assert [m.status for _, m in sorted(by_number.items())] == [Status.QUEUED, Status.SKIPPED, Status.SKIPPED]
    assert by_number["+447700900002"].error_message.startswith("consent withdrawn on ")
    assert by_number["+447700900003"].error_message == "no SMS consent on record"
    assert (len(result.queued), len(result.skipped)) == (1, 2)


def _batch_queries(count, prefix):
    texts = []
    for n in range(count):
        number = f"+4477009{prefix}{n:03d}"
        if n % 2:
            consenting(number)
        texts.append(BatchText(to=number, body="Vote FOR composite 3", key=f"{prefix}:{n}"))
    with CaptureQueriesContext(connection) as queries:
        send_batch(texts, purpose="briefing")
    return len(queries)


def test_the_consent_check_keeps_a_batchs_query_count_flat(sms):
    # existing keys, opt-outs, one consent query per registered app (delegates, volunteers), earlier texts,
    # the outbox INSERT and the history INSERT (plus savepoints): the same for 6 texts and for 120.
    assert _batch_queries(6, "01") == _batch_queries(120, "02")


def test_the_first_campaign_text_to_a_number_links_the_privacy_notice_and_the_second_does_not(sms):
    consenting("+447700900001")

    first = send_sms(to="+447700900001", body="Vote FOR composite 3", key="k1", purpose="briefing")
    second = send_sms(to="+447700900001", body="Vote FOR composite 3", key="k2", purpose="briefing")

    assert first.body == f"Free Movement: Vote FOR composite 3\nReply STOP to opt out\n{privacy_line()}"
    assert privacy_line() == "Privacy: https://cardvote.example.org/privacy/"
    assert second.body == "Free Movement: Vote FOR composite 3\nReply STOP to opt out"


def test_in_a_batch_only_numbers_never_texted_before_get_the_privacy_line_once(sms):
    for number in ("+447700900001", "+447700900002"):
        consenting(number)
    send_sms(to="+447700900001", body="Welcome", key="earlier", purpose="briefing")

    send_batch(
        [("+447700900001", "Vote FOR", "b:1"), ("+447700900002", "Vote FOR", "b:2"), ("+447700900002", "Hi", "b:3")],
        purpose="briefing",
    )

    bodies = dict(
        OutboundMessage.objects.filter(idempotency_key__startswith="b:").values_list("idempotency_key", "body")
    )
    assert "Privacy:" not in bodies["b:1"]  # texted before
    assert "Privacy:" in bodies["b:2"] and "Privacy:" not in bodies["b:3"]


def test_a_skipped_text_does_not_count_as_the_first_one(sms):
    send_sms(to="+447700900001", body="Vote FOR", key="k1", purpose="briefing")  # no consent yet: skipped
    consenting("+447700900001")

    assert "Privacy:" in send_sms(to="+447700900001", body="Vote FOR", key="k2", purpose="briefing").body


def test_another_apps_check_is_consulted_without_messaging_importing_it(sms):
    register_consent_check("tests:list", lambda numbers: {"+447700900005": ConsentDecision(True, "paper list 3")})
    try:
        message = send_sms(to="+447700900005", body="Vote FOR", key="k1", purpose="briefing")
    finally:
        unregister_consent_check("tests:list")
    assert (message.status, message.consent_basis) == (Status.QUEUED, "paper list 3")
