"""Drill: a briefing queued with send_batch reaches Twilio through a real worker, each text exactly once."""

from unittest import mock

import pytest
from django.db import transaction

from messaging import services
from messaging.services import BatchText, send_batch
from messaging.tasks import deliver_outbound, dispatch_outbound
from tests.support.drills import DRILL_MARKS, assert_each_recipient_got_exactly_one, recipient

pytestmark = [
    *DRILL_MARKS,
    pytest.mark.usefixtures("everyone_consents"),  # made-up numbers: every one counts as consenting
]


def test_a_batch_of_texts_is_delivered_once_each_by_a_plain_worker_via_the_dispatcher(drill):
    numbers = range(500, 620)
    drill.twilio.latency = 0.01
    services.opt_out(recipient(619), source="sms_keyword")  # on the list: never sent
    with drill.workers("batch", rate=500) as workers:
        with (
            mock.patch.object(dispatch_outbound, "apply_async", wraps=dispatch_outbound.apply_async) as dispatches,
            mock.patch.object(deliver_outbound, "apply_async", wraps=deliver_outbound.apply_async) as deliveries,
            transaction.atomic(),
        ):
            result = send_batch(
                [BatchText(to=recipient(n), body=f"Batch {n}", key=f"drill-batch:{n}") for n in numbers],
                purpose="drill",
                marketing=False,
            )
        # One publish from this process (a dispatcher task), not 119; the worker publishes the deliveries.
        assert (dispatches.call_count, deliveries.call_count) == (1, 0)
        assert len(result.queued) == 119 and len(result.skipped) == 1
        drill.settle(result.queued)
        assert_each_recipient_got_exactly_one(drill, numbers[:-1], result.queued, workers)
    assert recipient(619) not in drill.twilio.sends_per_recipient()
    assert not any(sweep["requeued"] for sweep in drill.sweeps), "the dispatcher lost texts the sweeper had to find"
