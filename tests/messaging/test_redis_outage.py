"""A Redis outage never blocks a request: publishing fails fast, once per transaction; the cache and the
rate limiter degrade safely. (Timings are in bench/sms_outbox.py; here we count connection attempts.)

The broker is "down" by pointing this process's Celery app at a port nobody listens on.
"""

import threading
from contextlib import contextmanager
from unittest import mock

import pytest
import redis
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from messaging import ratelimit, services, tasks
from messaging.models import OptOut, OutboundMessage
from tests.messaging.core_support import AUTH_TOKEN, PUBLIC, post_signed, sms_fixture  # noqa: F401
from tests.services import require_redis
from tests.support.celery_worker import celery_broker
from tests.support.processes import free_port
from tests.support.redis_server import RedisServer

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("everyone_consents")

Status = OutboundMessage.Status


@contextmanager
def counted_redis_connections():
    """Count every TCP connection redis-py opens in this process (to the broker, the cache, the limiter)."""
    attempts = []
    real = redis.connection.Connection._connect

    def counting(self):
        attempts.append((self.host, self.port))
        return real(self)

    with mock.patch.object(redis.connection.Connection, "_connect", counting):
        yield attempts


@pytest.fixture
def broker_down(settings):
    settings.SMS_RATE_LIMIT_KEY = "test:outage"
    port = free_port()
    with celery_broker(f"redis://127.0.0.1:{port}/0"):
        yield port


def queue_texts(prefix: str, count: int) -> list[int]:
    with transaction.atomic():
        return [
            services.send_sms(to=f"+447700900{n:03d}", body=f"Briefing {n}", key=f"{prefix}:{n}", purpose="test").pk
            for n in range(count)
        ]


@pytest.mark.django_db(transaction=True)
def test_two_hundred_texts_queued_in_one_transaction_with_the_broker_down_try_to_connect_once(broker_down):
    with counted_redis_connections() as attempts:
        ids = queue_texts("outage", 200)
    assert [port for _host, port in attempts] == [broker_down]
    # Nothing lost: every row is written and waits, queued, for the sweeper.
    assert OutboundMessage.objects.filter(pk__in=ids, status=Status.QUEUED).count() == 200


@pytest.mark.django_db(transaction=True)
def test_the_next_transaction_and_another_thread_try_the_broker_again(broker_down):
    with counted_redis_connections() as attempts:
        queue_texts("first", 5)
        queue_texts("second", 5)  # the next request: the first one's failure is not remembered
        thread = threading.Thread(target=lambda: (queue_texts("thread", 5), _close_connection()))
        thread.start()
        thread.join(30)
    assert len(attempts) == 3


def _close_connection():
    from django.db import connection

    connection.close()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_up_every_text_of_a_transaction_is_published(tmp_path):
    require_redis()
    with RedisServer(workdir=tmp_path / "redis") as server, celery_broker(server.url()):
        queue_texts("up", 25)
        with redis.Redis.from_url(server.url()) as client:
            assert client.llen("sms") == 25


@pytest.mark.django_db(transaction=True)
def test_a_signed_stop_with_redis_down_opts_out_at_once_with_one_connection_attempt(client, broker_down, settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC
    params = {"MessageSid": "SM" + "b" * 32, "From": "+447700900001", "To": "+447700900999", "Body": "STOP"}
    with counted_redis_connections() as attempts:
        response = post_signed(client, "twilio-inbound", params)
    assert response.status_code == 200
    assert OptOut.objects.get(number="+447700900001").opted_out
    # The confirmation waits in the outbox for the sweeper.
    assert OutboundMessage.objects.get(purpose=services.KEYWORD_REPLY_PURPOSE).status == Status.QUEUED
    assert len(attempts) <= 1


@pytest.mark.redis
def test_the_cache_reads_a_redis_outage_as_a_miss_and_logs_it(settings, caplog):
    require_redis()
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"},
    }
    assert settings.CACHES["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"]
    cache.set("cardvote:test:outage", "1")  # no exception
    assert cache.get("cardvote:test:outage") is None
    assert cache.get("cardvote:test:outage", "fallback") == "fallback"
    assert "ConnectionError" in caplog.text or "Connection refused" in caplog.text


@pytest.mark.django_db
def test_with_the_rate_limiter_unreachable_a_text_is_held_back_not_sent_unthrottled(sms):
    message = services.send_sms(to="+447700900005", body="Hold", key="outage:limiter", purpose="test")
    sms.commit()
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        assert tasks.deliver(message.pk) == "deferred"
        assert not ratelimit.acquire(cost=1, max_wait=1)
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.attempts == 0  # the claim was given back, not counted as a try
    assert sms.outbox == []  # nothing reached the provider
