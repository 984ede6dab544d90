"""The claim is what stops two workers sending the same text. The control test proves the race is real.

Real PostgreSQL, real commits: each thread has its own connection, as two Celery workers would.
"""

import threading

import pytest
from django.db import connection

from messaging import services, tasks
from messaging.backends import get_backend, locmem
from messaging.models import OutboundMessage
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)
from tests.services import require_postgres

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("everyone_consents")]
Status = OutboundMessage.Status
ROUNDS = 10


def run_pair(target, message_id):
    """Two 'workers' that both read the queued row before either goes on."""
    both_read = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            row = OutboundMessage.objects.get(pk=message_id)
            both_read.wait(timeout=10)
            results.append(target(row))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def naive_send(row):
    """What a worker without the claim would do: it saw `queued`, so it sends, then records."""
    if row.status != Status.QUEUED:
        return "skipped"
    result = get_backend().send(row)
    OutboundMessage.objects.filter(pk=row.pk).update(status=Status.SENT, provider_sid=result.sid)
    return "sent"


def claimed_send(row):
    return tasks.deliver(row.pk)


def queue(n):
    return [services.send_sms(to="+447700900001", body="Vote FOR", key=f"race:{i}", purpose="test") for i in range(n)]


def test_control_without_the_claim_two_workers_both_send(sms):
    require_postgres()
    for message in queue(ROUNDS):
        assert run_pair(naive_send, message.pk) == ["sent", "sent"]
    assert len(locmem.outbox) == 2 * ROUNDS  # every text went out twice: the race exists


def test_with_the_claim_exactly_one_of_two_workers_sends(sms):
    require_postgres()
    for message in queue(ROUNDS):
        assert sorted(run_pair(claimed_send, message.pk)) == ["not-claimed", "sent"]
    assert len(locmem.outbox) == ROUNDS
    assert set(OutboundMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


def test_the_same_key_from_two_transactions_at_once_makes_one_row(sms):
    require_postgres()
    start = threading.Barrier(2)
    ids, errors = [], []

    def caller():
        try:
            start.wait(timeout=10)
            ids.append(services.send_sms(to="+447700900001", body="Hi", key="race:key", purpose="test").pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(set(ids)) == 1 and OutboundMessage.objects.count() == 1
    assert len(sms.queued) == 1
