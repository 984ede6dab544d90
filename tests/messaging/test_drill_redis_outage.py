"""Drill: Redis stops, a coordinator's request queues 1,000 texts, Redis returns; each is sent exactly once.

The request must not wait on the dead broker: it makes at most one connection attempt (the time it takes
is measured in bench/sms_outbox.py, not asserted here). A real worker then sends everything once Redis
is back, the sweeper re-queuing what could not be published.
"""

from messaging.models import OutboundMessage
from tests.messaging.test_redis_outage import counted_redis_connections
from tests.services import require_postgres, require_redis
from tests.support.celery_worker import running_workers
from tests.support.drills import DRILL_MARKS, assert_each_recipient_got_exactly_one, queue_batch

pytestmark = DRILL_MARKS
Status = OutboundMessage.Status


def test_a_thousand_texts_queued_while_redis_is_down_are_each_sent_once_after_it_returns(drill):
    require_postgres()
    require_redis()
    numbers = range(1000)
    drill.twilio.latency = 0.01
    drill.redis.stop()
    with counted_redis_connections() as attempts:
        ids = queue_batch("outage1000", numbers)  # one transaction, as one request would
    assert len(attempts) <= 1, f"{len(attempts)} connection attempts while queuing one batch"
    assert OutboundMessage.objects.filter(pk__in=ids, status=Status.QUEUED).count() == 1000

    drill.redis.restart()
    with running_workers(["a"], drill.env(rate=1000), log_dir=drill.tmp_path, concurrency=2) as workers:
        drill.settle(ids, timeout=240)
        assert_each_recipient_got_exactly_one(drill, numbers, ids, workers)
    assert any(sweep["requeued"] for sweep in drill.sweeps)
    print(f"redis outage drill: {len(ids)} texts, {len(attempts)} connection attempt(s); {drill.report(ids)}")
