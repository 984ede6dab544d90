"""The global SMS rate limit, shared by every worker on every machine.

A reservation scheme (GCRA): each caller atomically books the next free slot, `interval` seconds per
segment after the previous booking, and sleeps until it. Slots are spaced evenly with no burst, so no
one-second window can hold more than the configured rate. We aim a little under the rate so that the
jitter between a slot and the request reaching the provider cannot push a window over it.

With Redis the booking is one Lua script using Redis's clock; without Redis (embedded mode) the same
arithmetic runs under an exclusive file lock, which is correct for processes on one machine.
"""

import fcntl
import functools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Book slots at 90% of the configured rate: 100 ms of slack per second for network and scheduling jitter.
SAFETY_FACTOR = 0.9
DEFAULT_KEY = "cardvote:sms:ratelimit"

_RESERVE_LUA = """
local interval = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then return {0, wait} end
local new_tat = tat + cost * interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1000)
return {1, wait}
"""


@dataclass(frozen=True)
class Reservation:
    granted: bool
    wait: float  # seconds until the slot (granted) or until one could be booked (refused)


def interval_for(rate_per_second: float) -> float:
    return 1.0 / (rate_per_second * SAFETY_FACTOR)


@functools.lru_cache(maxsize=4)
def _redis_script(url: str):
    import redis

    # Short timeouts and no client-side retries: with Redis away a worker gives the text back at once.
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, retry=None)
    return client.register_script(_RESERVE_LUA)


def reserve_redis(url: str, key: str, *, cost: int, interval: float, max_wait: float) -> Reservation:
    granted, wait_us = _redis_script(url)(
        keys=[key], args=[int(interval * 1_000_000), int(cost), int(max_wait * 1_000_000)]
    )
    return Reservation(bool(granted), int(wait_us) / 1_000_000)


def reserve_file(path: Path, *, cost: int, interval: float, max_wait: float) -> Reservation:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.read(fd, 64).strip()
        now = time.time()
        try:
            tat = max(float(raw), now)
        except ValueError:
            tat = now
        wait = tat - now
        if wait > max_wait:
            return Reservation(False, wait)
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, repr(tat + cost * interval).encode())
        return Reservation(True, wait)
    finally:
        os.close(fd)  # also releases the lock


def reserve(*, cost: int = 1, max_wait: float = 20.0, key: str | None = None, rate: float | None = None) -> Reservation:
    """Book a slot for `cost` segments at the global rate; refused (nothing booked) if it is over max_wait away."""
    # SMS_RATE_LIMIT_KEY (optional) lets tests and drills sharing one Redis keep separate buckets.
    key = key or getattr(settings, "SMS_RATE_LIMIT_KEY", "") or DEFAULT_KEY
    interval = interval_for(rate or settings.SMS_RATE_PER_SECOND)
    cost = max(1, int(cost))
    if settings.REDIS_URL:
        return reserve_redis(settings.REDIS_URL, key, cost=cost, interval=interval, max_wait=max_wait)
    safe_name = "".join(c if c.isalnum() else "-" for c in key)
    return reserve_file(Path(settings.VAR_DIR) / f"{safe_name}.state", cost=cost, interval=interval, max_wait=max_wait)


def acquire(*, cost: int = 1, max_wait: float = 20.0, key: str | None = None, rate: float | None = None) -> bool:
    """Wait for our slot and return True, or return False at once if the next slot is over max_wait away.

    If the limiter cannot be asked (Redis down), False as well: a text is never sent unthrottled; the caller
    puts it back in the queue for later.
    """
    try:
        booking = reserve(cost=cost, max_wait=max_wait, key=key, rate=rate)
    except RedisError as exc:
        logger.warning("sms rate limiter unreachable (%s): holding texts back", type(exc).__name__)
        return False
    if not booking.granted:
        return False
    if booking.wait > 0:
        time.sleep(booking.wait)
    return True
