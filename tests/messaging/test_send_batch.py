"""send_batch: a briefing's texts queued at once, with the same rows and rules as send_sms, in a fixed
number of queries whatever the size, and one publish per 500 texts instead of one per text."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import services
from messaging.models import OutboundMessage, OutboundStatusChange
from messaging.services import BatchText, send_batch
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)
from tests.services import require_postgres

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("everyone_consents")]
Status = OutboundMessage.Status


def texts(count: int, prefix: str = "brief") -> list[BatchText]:
    return [
        BatchText(to=f"07700 900{n:03d}", body=f"Vote FOR composite {n}", key=f"{prefix}:{n}") for n in range(count)
    ]


@pytest.fixture
def dispatched(monkeypatch):
    """The dispatcher tasks that would be published after commit (lists of ids)."""
    calls = []
    monkeypatch.setattr(services, "dispatch", lambda ids: calls.append(list(ids)) or True)
    return calls


def test_a_batch_writes_the_same_rows_as_send_sms_with_history(sms, dispatched):
    result = send_batch(texts(3), purpose="briefing")
    single = services.send_sms(to="07700 900003", body="Vote FOR composite 3", key="single:3", purpose="briefing")
    rows = list(OutboundMessage.objects.filter(pk__in=result.queued).order_by("pk"))
    assert [m.to for m in rows] == ["+447700900000", "+447700900001", "+447700900002"]
    for message in rows:
        assert message.status == Status.QUEUED
        assert message.body == single.body.replace("3", message.to[-1])  # sender name and STOP line, as send_sms
        assert (message.segments, message.encoding, message.marketing) == (single.segments, single.encoding, True)
        history = list(OutboundStatusChange.objects.filter(message=message).values_list("from_status", "to_status"))
        assert history == [("", Status.QUEUED)]
    assert dispatched == []  # only after commit
    sms.commit()
    assert dispatched == [result.queued]


def test_opted_out_numbers_get_skipped_rows_and_are_not_dispatched(sms, dispatched):
    services.opt_out("+447700900001", source="sms_keyword")
    result = send_batch(texts(3), purpose="briefing")
    sms.commit()
    skipped = OutboundMessage.objects.get(to="+447700900001", purpose="briefing")
    assert result.skipped == [skipped.pk]
    assert (skipped.status, skipped.error_code) == (Status.SKIPPED, "opted_out")
    assert skipped.pk not in dispatched[0]
    assert len(dispatched[0]) == 2


def test_running_the_same_briefing_again_queues_nothing_twice(sms, dispatched):
    first = send_batch(texts(5), purpose="briefing")
    sms.commit()
    again = send_batch(texts(7), purpose="briefing")  # two more delegates joined the audience
    sms.commit()
    assert sorted(again.existing) == sorted(first.queued)
    assert len(again.queued) == 2
    assert OutboundMessage.objects.count() == 7
    assert [len(ids) for ids in dispatched] == [5, 2]


def test_a_key_twice_in_one_batch_is_one_text(sms, dispatched):
    batch = [*texts(2), BatchText(to="07700 900999", body="Other", key="brief:0")]
    assert send_batch(batch, purpose="briefing").total == 2


def test_a_bad_row_is_named_and_nothing_is_written(sms, dispatched):
    batch = [
        *texts(2),
        BatchText(to="01632 960000", body="Hi", key="brief:x"),
        BatchText(to="07700 900005", body="", key="brief:y"),
    ]
    with pytest.raises(ValidationError) as caught:
        send_batch(batch, purpose="briefing")
    messages = caught.value.message_dict["texts"]
    assert [m.split(":")[0] for m in messages] == ["Text 3", "Text 4"]
    assert OutboundMessage.objects.count() == 0


def test_a_batch_past_its_useless_after_time_is_all_skipped(sms, dispatched):
    result = send_batch(texts(3), purpose="briefing", useless_after=timezone.now())
    sms.commit()
    assert len(result.skipped) == 3 and dispatched == []


def test_large_batches_are_dispatched_in_chunks_of_500(sms, dispatched):
    result = send_batch(texts(1000), purpose="briefing")
    sms.commit()
    assert [len(ids) for ids in dispatched] == [500, 500]
    assert [pk for ids in dispatched for pk in ids] == result.queued


def _queries_for(count: int, prefix: str) -> int:
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        send_batch(texts(count, prefix), purpose="briefing")
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_batch(sms, dispatched, django_assert_max_num_queries):
    require_postgres()  # bulk_create returns ids in one INSERT on PostgreSQL
    services.opt_out("+447700900003", source="sms_keyword")
    small = _queries_for(10, "small")
    assert _queries_for(600, "large") == small
    # savepoint, existing keys, opt-outs, consent (delegates, volunteers, coordinators: one each), numbers
    # texted before (for the privacy line), outbox INSERT, history INSERT, release savepoint
    with django_assert_max_num_queries(10):
        send_batch(texts(300, "pinned"), purpose="briefing")


# --- The opt-out check at any size: one query, the same answer by number or by keyed hash -------------------------


def _opt_out_list() -> dict[str, str]:
    """One number opted out, one whose owner was erased (the list keeps only the hash), one back in by START."""
    services.opt_out("+447700900001", source="sms_keyword")
    services.opt_out("+447700900002", source="sms_keyword")
    services.forget_opt_out_number(number="+447700900002")
    services.opt_out("+447700900003", source="sms_keyword")
    services.opt_in("+447700900003", source="sms_keyword")
    services.opt_out("+447700999999", source="sms_keyword")  # someone outside the batch
    return {"listed": "+447700900001", "erased": "+447700900002", "back_in": "+447700900003"}


@pytest.mark.parametrize("size", [5, services.OPT_OUT_SCAN_ABOVE + 300], ids=["targeted", "whole-list"])
def test_opted_out_numbers_matches_by_number_or_hash_in_one_query_at_any_size(size, django_assert_num_queries):
    cases = _opt_out_list()
    numbers = {f"+447700900{n:03d}" for n in range(size)}
    with django_assert_num_queries(1):  # the opt-out rows: by number or hash, or the whole list for a big batch
        found = services.opted_out_numbers(numbers)
    assert found == {cases["listed"], cases["erased"]}


def test_a_big_batch_skips_a_number_the_list_keeps_only_as_a_hash(sms, dispatched):
    cases = _opt_out_list()
    result = send_batch(texts(services.OPT_OUT_SCAN_ABOVE + 50, "big"), purpose="briefing")
    skipped = dict(OutboundMessage.objects.filter(pk__in=result.skipped).values_list("to", "error_code"))
    assert skipped == {cases["listed"]: "opted_out", cases["erased"]: "opted_out"}
    assert len(result.queued) == services.OPT_OUT_SCAN_ABOVE + 48


def test_the_opt_out_check_costs_the_same_queries_either_side_of_the_whole_list_threshold(sms, dispatched):
    require_postgres()  # bulk_create returns ids in one INSERT on PostgreSQL
    _opt_out_list()
    below = _queries_for(services.OPT_OUT_SCAN_ABOVE - 10, "below")
    assert _queries_for(services.OPT_OUT_SCAN_ABOVE + 400, "above") == below
