"""The global SMS rate limit, shared by every worker on every machine: a sliding-window log in segments.

The rate R (SMS_RATE_PER_SECOND) counts segments, as Twilio does. The window is W_base = 1 s (1/R s below one
a second) and its budget B = max(1, floor(R × W_base)) segments. Each admitted text is an entry (its time, its
cost in segments) that stays in the log for W = W_base + SMS_RATE_WINDOW_MARGIN_MS; a text is admitted now iff
the unexpired entries plus its own cost fit in B (or the log is empty), otherwise nothing is booked and the
answer says how long until enough of the log expires. Any W of requests therefore holds at most B segments
(each entry restarts once its request has left, below), and the margin absorbs how much the network's delay
to the provider varies, so no second at the provider holds more than R: bursts are bounded by the window,
not spread out by a schedule.

Why not the GCRA this replaces: it booked evenly spaced slots at 90 % of R to leave room for jitter (so it
never reached 0.95 of R), and booked all of a text's c segments at its slot, so a 2-segment text on top of
0.9 R of spacing put 11 segments into one second at 10/s. Here a long text waits until its whole cost fits.
A text costing more than B (a long text at a low rate) is admitted alone and holds the log for W × c / B, so
the long-run rate still holds.

Next in line: without it, a 2-segment text can wait for ever while 1-segment texts take each segment as it
frees (the bench saw one wait 20 s and be deferred, which cost 0.28 of the achieved rate at 10/s). So a
refused text becomes next in line (a small record beside the log: its caller's token, cost, first refusal
and how long the record holds) unless a text refused before it already is, and the others are admitted only
if they fit beside it. The record goes when that text is admitted, or lapses CLAIM_GRACE_SECONDS after the
wait it was told, should its worker die or give up.

Send time, not admission time: between admission and the request a worker may be slow (a cold process, a
loaded machine). So once the request has been written, `request_left` restarts the text's entry from that
moment: the log then holds times by which the requests had certainly left, and the margin only has to cover
how much the network's delay to the provider varies. (Restarted just before the request instead, the rate
drill at 5/s saw a sixth request within one second whenever building and writing it was held up on a loaded
machine: up to 50 ms at 50/s in the bench, as much as the whole margin.) The worker's last look at the text
(erased, opted out, paused meanwhile?) comes before the try that admits it (`acquire`'s still_wanted), so it
takes no time inside the window the text holds.

With Redis the decision is one Lua script on Redis's clock (a sorted set scored by expiry in µs, each member
"cost:token", and a hash for the text next in line); without Redis (embedded mode) the same arithmetic runs
on a JSON file under an exclusive flock, which is correct for processes on one machine.
"""

import contextlib
import fcntl
import functools
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_KEY = "cardvote:sms:ratelimit"
# Sleepers woken by the same expiry would all ask at once; a few ms of spread lets the first one take it.
WAKE_JITTER_SECONDS = 0.004
# How late the text next in line may come back after the wait it was told before others may take its place.
CLAIM_GRACE_SECONDS = 0.5
# A waiting text's look at its row (acquire's still_wanted) is at most this old when it is admitted, and is
# made this long before the try it is for, so that it is done by then.
LOOK_FRESH_SECONDS = 0.25
LOOK_LEAD_SECONDS = 0.03

_ADMIT_LUA = """
local window = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local token = ARGV[4]
local patience = tonumber(ARGV[5])
local grace = tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local since = tonumber(ARGV[7])
if since == 0 then since = now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do
  used = used + tonumber(string.match(entries[i], '^(%d+):'))
end
local next_in_line = redis.call('HMGET', KEYS[2], 'token', 'cost', 'until', 'since')
local mine = next_in_line[1] == token
local held = 0
if next_in_line[1] and not mine and tonumber(next_in_line[3]) > now and tonumber(next_in_line[4]) <= since then
  held = tonumber(next_in_line[2])
end
if (#entries == 0 and held == 0) or used + cost + held <= budget then
  local hold = window
  if cost > budget then hold = math.floor(window * cost / budget) end
  redis.call('ZADD', KEYS[1], string.format('%d', now + hold), cost .. ':' .. token)
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.floor((tonumber(last[2]) - now) / 1000) + 1)
  if mine then redis.call('DEL', KEYS[2]) end
  return {1, 0, since}
end
local wait = nil
local excess = used + cost + held - budget
for i = 1, #entries, 2 do
  excess = excess - tonumber(string.match(entries[i], '^(%d+):'))
  if excess <= 0 then
    wait = tonumber(entries[i + 1]) - now
    break
  end
end
if wait == nil then
  if #entries > 0 then wait = tonumber(entries[#entries]) - now else wait = tonumber(next_in_line[3]) - now end
end
if held == 0 and wait <= patience then
  local until_ = now + wait + grace
  redis.call('HSET', KEYS[2], 'token', token, 'cost', cost, 'until', string.format('%d', until_),
    'since', string.format('%d', since))
  redis.call('PEXPIRE', KEYS[2], math.floor((wait + grace) / 1000) + 1)
end
return {0, wait, since}
"""


_RESTAMP_LUA = """
local hold = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], string.format('%d', now + hold), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.floor((tonumber(last[2]) - now) / 1000) + 1)
return 1
"""


_STEP_ASIDE_LUA = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
"""


@dataclass(frozen=True)
class Window:
    seconds: float  # W: the base window plus the margin
    budget: int  # B: segments admitted per window


@dataclass(frozen=True)
class Answer:
    admitted: bool
    wait: float  # refused: seconds until enough of the log expires (others may take it first); admitted: 0
    since: float = 0.0  # when the text was first refused, on the limiter's clock: pass it back on the next try
    expiry: float = 0.0  # admitted by the file backend: its entry's expiry (how `request_left` finds it)


@dataclass(frozen=True)
class Admitted:
    """What `acquire` returns when a text may go: the backend calls `request_left` with it once the request is out."""

    key: str
    cost: int
    token: str
    hold: float  # how long the text's entry stays in the log, from when it is (re)stamped
    expiry: float  # the entry's expiry as admitted (the file backend finds the entry by it)


@dataclass(frozen=True)
class NextInLine:
    token: str
    cost: int
    until: float  # the record lapses then if its text has not come back
    since: float  # when that text was first refused: a text refused earlier goes ahead of it


def window_for(rate_per_second: float, margin_ms: float | None = None) -> Window:
    if margin_ms is None:
        margin_ms = getattr(settings, "SMS_RATE_WINDOW_MARGIN_MS", 50)
    base = 1.0 if rate_per_second >= 1 else 1.0 / rate_per_second
    return Window(seconds=base + margin_ms / 1000, budget=max(1, math.floor(rate_per_second * base)))


def decide(
    entries: list[tuple[float, int]],
    next_in_line: NextInLine | None,
    *,
    now: float,
    cost: int,
    token: str,
    window: Window,
    patience: float = math.inf,
    since: float = 0.0,
    grace: float = CLAIM_GRACE_SECONDS,
) -> tuple[Answer, list[tuple[float, int]], NextInLine | None]:
    """The log's arithmetic on (expiry, cost) entries: the answer, the unexpired entries afterwards (sorted) and
    who is next in line. ``patience``: how long the caller would still wait (it is made next only within it);
    ``since``: the text's first refusal (0 on its first try).

    The file backend runs this; the Lua script above is the same, step for step."""
    entries = sorted(entry for entry in entries if entry[0] > now)
    used = sum(c for _, c in entries)
    since = since or now
    mine = next_in_line is not None and next_in_line.token == token
    ahead = next_in_line is not None and not mine and next_in_line.until > now and next_in_line.since <= since
    held = next_in_line.cost if ahead else 0
    if (not entries and not held) or used + cost + held <= window.budget:
        hold = window.seconds * cost / window.budget if cost > window.budget else window.seconds
        entry = (now + hold, cost)
        return Answer(True, 0.0, since, entry[0]), sorted([*entries, entry]), None if mine else next_in_line
    wait = None
    excess = used + cost + held - window.budget
    for expiry, c in entries:  # soonest expiry first: when has enough gone?
        excess -= c
        if excess <= 0:
            wait = expiry - now
            break
    if wait is None:  # only an empty log takes a text over the budget
        wait = entries[-1][0] - now if entries else next_in_line.until - now
    if not held and wait <= patience:
        next_in_line = NextInLine(token=token, cost=cost, until=now + wait + grace, since=since)
    return Answer(False, wait, since), entries, next_in_line


@functools.lru_cache(maxsize=4)
def _redis_script(url: str):
    import redis

    # Short timeouts and no client-side retries: with Redis away a worker gives the text back at once.
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, retry=None)
    return tuple(client.register_script(lua) for lua in (_ADMIT_LUA, _RESTAMP_LUA, _STEP_ASIDE_LUA))


def admit_redis(
    url: str, key: str, *, cost: int, window: Window, token: str, patience: float = 0.0, since: float = 0.0
) -> Answer:
    admitted, wait_us, since_us = _redis_script(url)[0](
        keys=[key, f"{key}:next"],
        args=[
            int(window.seconds * 1_000_000),
            window.budget,
            int(cost),
            token,
            int(patience * 1_000_000),
            int(CLAIM_GRACE_SECONDS * 1_000_000),
            int(since * 1_000_000),
        ],
    )
    return Answer(bool(admitted), int(wait_us) / 1_000_000, int(since_us) / 1_000_000)


@contextlib.contextmanager
def _locked_state(path: Path):
    """The file log's state (a dict; empty if new or unreadable) under an exclusive flock, written back on exit."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = b""
        while chunk := os.read(fd, 65536):
            raw += chunk
        try:
            state = json.loads(raw)
        except ValueError:
            state = {}
        if not isinstance(state, dict):
            state = {}
        yield state
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(state).encode())
    finally:
        os.close(fd)  # also releases the lock


def _file_entries(state: dict) -> list[tuple[float, int]]:
    return [(float(expiry), int(c)) for expiry, c in state.get("log", [])]


def admit_file(
    path: Path, *, cost: int, window: Window, token: str, patience: float = 0.0, since: float = 0.0
) -> Answer:
    with _locked_state(path) as state:
        try:
            entries = _file_entries(state)
            next_in_line = NextInLine(*state["next"]) if state.get("next") else None
        except (ValueError, TypeError, KeyError):  # from the old limiter: start an empty log
            entries, next_in_line = [], None
        answer, entries, next_in_line = decide(
            entries, next_in_line, now=time.time(), cost=cost, token=token, window=window, patience=patience,
            since=since,
        )  # fmt: skip
        state.clear()
        state.update(log=entries, next=None if next_in_line is None else list(vars(next_in_line).values()))
        return answer


def _log_for(key: str | None, rate: float | None) -> tuple[str, Window]:
    # SMS_RATE_LIMIT_KEY (optional) lets tests and drills sharing one Redis keep separate logs.
    key = key or getattr(settings, "SMS_RATE_LIMIT_KEY", "") or DEFAULT_KEY
    return key, window_for(rate or settings.SMS_RATE_PER_SECOND)


def _file_for(key: str) -> Path:
    safe_name = "".join(c if c.isalnum() else "-" for c in key)
    return Path(settings.VAR_DIR) / f"{safe_name}.state"


def try_admit(
    *,
    cost: int = 1,
    key: str | None = None,
    rate: float | None = None,
    token: str = "",
    patience: float = 0.0,
    since: float = 0.0,
) -> Answer:
    """Admit `cost` segments now under the global rate, or say how long until they might fit (no segments
    booked; the caller, `token`, may become next in line if it would wait that long: `patience`)."""
    key, window = _log_for(key, rate)
    cost, token = max(1, int(cost)), token or os.urandom(8).hex()
    if settings.REDIS_URL:
        return admit_redis(
            settings.REDIS_URL, key, cost=cost, window=window, token=token, patience=patience, since=since
        )
    return admit_file(_file_for(key), cost=cost, window=window, token=token, patience=patience, since=since)


def acquire(
    *,
    cost: int = 1,
    max_wait: float = 20.0,
    key: str | None = None,
    rate: float | None = None,
    still_wanted: Callable[[], bool] | None = None,
) -> Admitted | None:
    """Wait until the text is admitted and return its admission (its request's `request_left` restarts it), or
    None when it cannot be within max_wait: at once if the log says so, else after trying until max_wait is
    used up.

    ``still_wanted``: the caller's own look at the text (erased? opted out? paused?), made just before it
    called acquire. While the text waits, it is called again shortly before a try whenever that look would
    otherwise be older than LOOK_FRESH_SECONDS at admission; if it answers False, acquire gives up (None).
    Looking before the try rather than after the admission keeps the look out of the window the text holds
    in the log (a look after admission, 8 ms typical and 50 ms at worst under load, was capacity lost).

    If the limiter cannot be asked (Redis down), None as well: a text is never sent unthrottled; the caller
    puts it back in the queue for later.
    """
    key, window = _log_for(key, rate)
    cost = max(1, int(cost))
    token, since = os.urandom(8).hex(), 0.0  # the same on every try: how the text next in line is known
    looked = time.monotonic()  # the caller's look, just before this call
    deadline = looked + max_wait
    while True:
        patience = deadline - time.monotonic()
        try:
            answer = try_admit(cost=cost, key=key, rate=rate, token=token, patience=patience, since=since)
        except RedisError as exc:
            logger.warning("sms rate limiter unreachable (%s): holding texts back", type(exc).__name__)
            return None
        if answer.admitted:
            hold = window.seconds * cost / window.budget if cost > window.budget else window.seconds
            return Admitted(key=key, cost=cost, token=token, hold=hold, expiry=answer.expiry)
        if answer.wait > patience:
            return None
        since = answer.since
        wake = time.monotonic() + answer.wait + random.uniform(0, WAKE_JITTER_SECONDS)  # noqa: S311 (a spread)
        if still_wanted is not None and wake - looked > LOOK_FRESH_SECONDS:
            _sleep_until(wake - LOOK_LEAD_SECONDS)
            if not still_wanted():
                _step_aside(key, token)
                return None
            looked = time.monotonic()
        _sleep_until(wake)


def _step_aside(key: str, token: str) -> None:
    """A text that gives up waiting stops being next in line at once, rather than when its record lapses."""
    try:
        if settings.REDIS_URL:
            _redis_script(settings.REDIS_URL)[2](keys=[f"{key}:next"], args=[token])
            return
        with _locked_state(_file_for(key)) as state:
            if state.get("next") and state["next"][0] == token:
                state["next"] = None
    except RedisError:
        pass  # the record lapses by itself, CLAIM_GRACE_SECONDS after the wait it was told


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def request_left(admitted: Admitted) -> None:
    """Restart the admitted text's entry in the log now: its request has just been written to the provider
    (the backend calls this between writing the request and reading the answer; see BaseBackend.send).

    The window then runs from a moment the request has certainly left by, rather than from admission, so no
    delay on this side (a cold worker process, a slow query, a scheduler hiccup on a loaded machine, building
    the request) can bring the texts of two windows into one second at the provider: the margin only has to
    cover how much the network's delay to the provider varies. A request held up for longer than the window
    (its entry expired meanwhile) is booked again, as it is out now. If the limiter cannot be reached now, the
    admission stands and its window runs from admission.
    """
    try:
        if settings.REDIS_URL:
            _redis_script(settings.REDIS_URL)[1](
                keys=[admitted.key], args=[f"{admitted.cost}:{admitted.token}", int(admitted.hold * 1_000_000)]
            )
        else:
            _restamp_file(_file_for(admitted.key), admitted)
    except RedisError as exc:
        logger.warning("sms rate limiter unreachable (%s) as a text leaves: its window runs from admission",
                       type(exc).__name__)  # fmt: skip


def _restamp_file(path: Path, admitted: Admitted) -> None:
    with _locked_state(path) as state:
        try:
            entries = _file_entries(state)
        except (ValueError, TypeError):
            return
        now = time.time()
        if (admitted.expiry, admitted.cost) in entries:
            entries.remove((admitted.expiry, admitted.cost))
        state["log"] = sorted([*(e for e in entries if e[0] > now), (now + admitted.hold, admitted.cost)])
