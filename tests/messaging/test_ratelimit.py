"""The global rate limit holds across workers: slots are spaced so no one-second window exceeds the rate."""

import threading
import time
import uuid

import pytest

from messaging import ratelimit
from tests.services import require_redis


def sliding_window_max(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def hammer(reserve, *, threads: int, each: int) -> list[float]:
    """Several workers book and then 'send' at their slot; return the send times."""
    sent, lock, gate = [], threading.Lock(), threading.Barrier(threads)

    def worker():
        gate.wait()
        for _ in range(each):
            booking = reserve()
            assert booking.granted
            time.sleep(booking.wait)
            with lock:
                sent.append(time.monotonic())

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    return sent


@pytest.fixture
def redis_key(request):
    url = require_redis()
    import redis

    key = f"test:msgcore:{request.node.name}:{uuid.uuid4().hex}"
    yield url, key
    redis.Redis.from_url(url).delete(key)


def test_no_one_second_window_exceeds_the_rate_across_workers_on_redis(redis_key):
    url, key = redis_key
    interval = ratelimit.interval_for(20)
    sent = hammer(lambda: ratelimit.reserve_redis(url, key, cost=1, interval=interval, max_wait=10), threads=4, each=8)
    assert len(sent) == 32
    assert sliding_window_max(sent) <= 20
    # ...and the limiter is not needlessly slow: 32 sends at 18/s take about 1.7 s.
    assert max(sent) - min(sent) < 2.5


def test_without_the_limiter_the_same_workers_break_the_rate():
    """Control: the check above can fail."""
    sent = hammer(lambda: ratelimit.Reservation(True, 0.0), threads=4, each=8)
    assert sliding_window_max(sent) > 20


def test_segments_are_counted_not_messages_on_redis(redis_key):
    url, key = redis_key
    first = ratelimit.reserve_redis(url, key, cost=3, interval=0.1, max_wait=10)
    second = ratelimit.reserve_redis(url, key, cost=1, interval=0.1, max_wait=10)
    assert first.wait == 0
    assert 0.25 <= second.wait <= 0.3  # three segments' worth of slots after the first


def test_a_refused_booking_reserves_nothing_on_redis(redis_key):
    url, key = redis_key
    ratelimit.reserve_redis(url, key, cost=10, interval=0.1, max_wait=10)  # the next slot is 1 s away
    refused = ratelimit.reserve_redis(url, key, cost=1, interval=0.1, max_wait=0.5)
    assert not refused.granted and 0.9 <= refused.wait <= 1.0
    later = ratelimit.reserve_redis(url, key, cost=1, interval=0.1, max_wait=10)
    assert later.granted and later.wait <= 1.0


def test_the_file_lock_fallback_holds_the_rate_on_one_machine(tmp_path):
    path = tmp_path / "bucket.state"
    interval = ratelimit.interval_for(20)
    sent = hammer(lambda: ratelimit.reserve_file(path, cost=1, interval=interval, max_wait=10), threads=4, each=8)
    assert len(sent) == 32 and sliding_window_max(sent) <= 20


def test_acquire_uses_the_file_fallback_without_redis(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    settings.SMS_RATE_PER_SECOND = 50
    settings.SMS_RATE_LIMIT_KEY = "test:msgcore:acquire"
    assert ratelimit.acquire(cost=1, max_wait=1, rate=0.01)  # books the next 111 s
    assert (tmp_path / "test-msgcore-acquire.state").exists()
    started = time.monotonic()
    assert not ratelimit.acquire(cost=1, max_wait=1)  # refused at once rather than waiting
    assert time.monotonic() - started < 0.5


def test_the_rate_aims_a_little_under_the_setting_to_absorb_jitter():
    assert ratelimit.interval_for(5) == pytest.approx(1 / 4.5)
