"""The Twilio webhooks share one generous global limit in the shared cache (Redis), and fail open without it."""

import uuid

import pytest

from tests.messaging.core_support import post_signed, sms_fixture  # noqa: F401  (the `sms` fixture)

pytestmark = pytest.mark.django_db
NUMBER = "+447700900001"


@pytest.fixture
def limited(settings, sms):
    settings.RATELIMIT_CACHE_PREFIX = f"test-rl:{uuid.uuid4().hex}:"  # fresh counters for this test
    settings.TWILIO_WEBHOOK_RATE = "3/m"


def inbound(client, text="Hello"):
    return post_signed(client, "twilio-inbound", {"From": NUMBER, "To": "+447700900999", "Body": text})


def test_both_webhooks_count_against_one_limit_and_the_next_request_gets_429(client, limited):
    assert inbound(client).status_code == 200
    assert post_signed(client, "twilio-status", {"MessageSid": "SMunknown", "MessageStatus": "sent"}).status_code == 200
    assert inbound(client).status_code == 200
    refused = inbound(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"


def test_the_default_limit_is_far_above_a_fast_briefing(settings):
    count, period = settings.TWILIO_WEBHOOK_RATE.split("/")
    # 50 texts a second, three callbacks each (sent, delivered, a reply), with room to spare.
    assert period == "s" and int(count) >= 3 * 50


def test_without_the_cache_the_webhooks_still_answer(client, limited, settings):
    """An inbound STOP must get through while Redis is down: django-ratelimit's failure is read as no limit."""
    settings.CACHES = {
        **settings.CACHES,
        "unreachable": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    settings.RATELIMIT_USE_CACHE = "unreachable"
    settings.TWILIO_WEBHOOK_RATE = "1/m"
    assert [inbound(client).status_code for _ in range(3)] == [200, 200, 200]
