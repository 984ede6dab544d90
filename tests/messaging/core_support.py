"""Fixtures for the messaging core tests (send, tasks, webhooks, keywords): import the ones a module uses.

`sms` switches to the locmem backend, a fast private rate limit, and records task ids instead of
publishing them to a broker, so each test decides when a worker "runs" (messaging.tasks.deliver).
"""

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from messaging import services
from messaging.backends import locmem

AUTH_TOKEN = "core-test-auth-token"
PUBLIC = "https://cardvote.example.org"


@dataclass
class SmsHarness:
    queued: list[int] = field(default_factory=list)
    countdowns: list[float | None] = field(default_factory=list)

    @property
    def outbox(self):
        return locmem.outbox

    def commit(self):
        """Inside a test's wrapping transaction: run the on-commit callbacks as if it had committed."""
        from django.db import connection

        while connection.run_on_commit:
            pending, connection.run_on_commit = connection.run_on_commit, []
            for _savepoints, callback, _robust in pending:
                callback()

    def run_queued(self):
        """Commit, then run every queued task once, as a worker would (and any tasks they queue in turn)."""
        from messaging import tasks

        self.commit()
        results = []
        while self.queued:
            results.append(tasks.deliver(self.queued.pop(0)))
            self.commit()
        return results


@pytest.fixture(name="sms")
def sms_fixture(settings, monkeypatch, tmp_path):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_RATE_PER_SECOND = 10_000
    settings.SMS_SENDER_NAME = "Free Movement"
    settings.SMS_RATE_LIMIT_KEY = f"test:msgcore:{uuid.uuid4().hex}"
    settings.VAR_DIR = tmp_path
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC
    locmem.reset()
    harness = SmsHarness()

    def fake_enqueue(message_id, countdown=None):
        harness.queued.append(message_id)
        harness.countdowns.append(countdown)
        return True  # "published"

    monkeypatch.setattr(services, "enqueue", fake_enqueue)
    yield harness
    locmem.reset()
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(settings.SMS_RATE_LIMIT_KEY)


def twilio_signature(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    """Twilio's scheme: HMAC-SHA1 over the URL followed by each POST name+value, sorted by name."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def post_signed(client, name: str, params: dict, query: str = "", *, signature: str | None = None, **extra):
    path = reverse(name) + (f"?{query}" if query else "")
    if signature is None:
        signature = twilio_signature(PUBLIC + path, params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post(path, params, **headers, **extra)
