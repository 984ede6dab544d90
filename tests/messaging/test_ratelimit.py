"""The global rate limit holds across workers: a sliding-window log in segments, on Redis and on a locked file.

Threads stand in for workers on other machines: each asks the limiter (the real Redis, or the file backend)
and 'sends' the moment it is admitted. Counts, never timings of a single call, are asserted.
"""

import math
import random
import threading
import time
import uuid

import pytest

from messaging import ratelimit
from tests.services import require_redis

# A window with no margin, as the bare arithmetic: 10 segments a second.
TEN_A_SECOND = ratelimit.Window(seconds=1.0, budget=10)


def busiest_window(sends: list[tuple[float, int]], window: float = 1.0) -> int:
    """The most segments in any half-open window of ``window`` seconds (as the benches count at the provider)."""
    sends = sorted(sends)
    best, start, inside = 0, 0, 0
    for t, cost in sends:
        inside += cost
        while t - sends[start][0] >= window:
            inside -= sends[start][1]
            start += 1
        best = max(best, inside)
    return best


def hammer(admit, *, threads: int, seconds: float, seed: int = 7) -> list[tuple[float, int]]:
    """Workers send a mix of 1- and 2-segment texts (about a third are two) as fast as the limiter admits them,
    for ``seconds``; return (time admitted, segments) for every send."""
    sent, lock, gate = [], threading.Lock(), threading.Barrier(threads)
    stop_at = []

    def worker(n):
        costs = random.Random(seed + n)
        gate.wait()
        if n == 0:
            stop_at.append(time.monotonic() + seconds)
        while not stop_at:
            time.sleep(0.001)
        while time.monotonic() < stop_at[0]:
            cost = 2 if costs.random() < 0.37 else 1
            token, since = f"{n}:{costs.random()}", 0.0  # one text: the same token on every try
            while True:
                answer = admit(cost, token, since)
                if answer.admitted:
                    with lock:
                        sent.append((time.monotonic(), cost))
                    break
                since = answer.since
                time.sleep(answer.wait + costs.uniform(0, ratelimit.WAKE_JITTER_SECONDS))
                if time.monotonic() >= stop_at[0]:
                    break

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 30)
    return sent


@pytest.fixture
def redis_key(request):
    url = require_redis()
    import redis

    key = f"test:msgcore:{request.node.name}:{uuid.uuid4().hex}"
    yield url, key
    redis.Redis.from_url(url).delete(key, f"{key}:next")


@pytest.fixture(params=["redis", "file"])
def admit(request, tmp_path):
    """admit(cost, window, ...) on either backend, each on a log of its own. Without a token, a one-off try."""
    if request.param == "redis":
        url, key = request.getfixturevalue("redis_key")

        def on_redis(cost, window, token=None, *, patience=0.0, since=0.0):
            token = token or uuid.uuid4().hex
            return ratelimit.admit_redis(
                url, key, cost=cost, window=window, token=token, patience=patience, since=since
            )

        return on_redis
    path = tmp_path / "log.state"

    def on_file(cost, window, token=None, *, patience=0.0, since=0.0):
        token = token or uuid.uuid4().hex
        return ratelimit.admit_file(path, cost=cost, window=window, token=token, patience=patience, since=since)

    return on_file


def test_the_window_is_a_second_with_its_margin_and_the_budget_the_rate_in_segments():
    assert ratelimit.window_for(10, margin_ms=20) == ratelimit.Window(seconds=1.02, budget=10)
    assert ratelimit.window_for(2.5, margin_ms=0) == ratelimit.Window(seconds=1.0, budget=2)
    # Below one a second the window stretches to one text's worth.
    assert ratelimit.window_for(0.25, margin_ms=20) == ratelimit.Window(seconds=4.02, budget=1)


def test_the_margin_comes_from_settings(settings):
    settings.SMS_RATE_WINDOW_MARGIN_MS = 50
    assert ratelimit.window_for(30).seconds == pytest.approx(1.05)


def test_no_one_second_window_exceeds_the_rate_in_segments_across_workers(admit):
    # The margin absorbs the delay between admission and the send; here that is a thread being scheduled on a
    # loaded machine to note the time, so it gets more than the 20 ms default.
    window = ratelimit.window_for(20, margin_ms=100)
    sent = hammer(
        lambda cost, token, since: admit(cost, window, token, patience=20, since=since), threads=6, seconds=2.5
    )
    assert busiest_window(sent) <= 20
    # ...and the limiter is not needlessly slow: three windows in 2.5 s hold 60 segments, less any left free
    # when a 2-segment text found one; far fewer would mean it refuses texts that fit.
    assert sum(cost for _, cost in sent) >= 50


def test_without_the_limiter_the_same_workers_break_the_rate():
    """Control: the check above can fail."""
    sent = hammer(lambda cost, token, since: ratelimit.Answer(True, 0.0), threads=6, seconds=0.2)
    assert busiest_window(sent) > 20


def test_a_busy_limiter_achieves_at_least_95_percent_of_the_rate_over_a_few_seconds(admit):
    """Counted over three seconds of steady state after the first admission's burst, with the default margin:
    the log refills as its entries expire, every 1.02 s, so three refills fall in any such span."""
    window = ratelimit.window_for(20, margin_ms=20)
    sent = hammer(lambda cost, token, since: admit(cost, window, token, patience=20, since=since), threads=6, seconds=4)
    first = min(t for t, _ in sent)
    segments = sum(cost for t, cost in sent if first + 0.5 <= t < first + 3.5)
    assert 0.95 * 20 * 3 <= segments <= 20 * 4


def test_a_text_is_admitted_only_while_its_segments_fit_in_the_window(admit):
    window = ratelimit.Window(seconds=10.0, budget=3)  # long enough that nothing expires during the test
    assert admit(2, window).admitted
    assert admit(1, window).admitted
    refused = admit(1, window)
    assert not refused.admitted and 9 <= refused.wait <= 10  # when the first entry expires


def test_a_refusal_books_nothing(admit):
    window = ratelimit.Window(seconds=10.0, budget=3)
    assert admit(2, window).admitted
    assert not admit(2, window).admitted
    assert not admit(2, window).admitted
    assert admit(1, window).admitted  # the two refusals took nothing


def decide(entries, now, cost, window, next_in_line=None, who="me", patience=math.inf, since=0.0):
    return ratelimit.decide(
        entries, next_in_line, now=now, cost=cost, token=who, window=window, patience=patience, since=since
    )


def test_the_wait_walks_the_log_oldest_first_until_enough_has_expired():
    entries = [(103.0, 1), (101.0, 2), (102.0, 1)]
    answer, kept, _ = decide(entries, now=100.0, cost=3, window=ratelimit.Window(seconds=5.0, budget=4))
    # 4 used + 3 wanted is 3 too many: the 2 at 101 is not enough, the 1 at 102 makes it.
    assert answer == ratelimit.Answer(False, 2.0, since=100.0)
    assert kept == sorted(entries)


def test_expired_entries_leave_the_log():
    entries = [(99.0, 2), (100.0, 1), (101.0, 1)]
    answer, kept, _ = decide(entries, now=100.0, cost=1, window=ratelimit.Window(seconds=1.0, budget=2))
    assert answer.admitted and kept == [(101.0, 1), (101.0, 1)]


def test_a_text_over_the_budget_waits_for_an_empty_log():
    window = ratelimit.Window(seconds=1.0, budget=2)
    answer, kept, _ = decide([(100.5, 1)], now=100.0, cost=5, window=window)
    assert answer == ratelimit.Answer(False, 0.5, since=100.0) and kept == [(100.5, 1)]
    answer, kept, _ = decide([], now=101.0, cost=5, window=window)
    assert answer.admitted and kept == [(103.5, 5)]  # 5 segments at 2 a window: held for 2.5 windows


def test_a_refused_text_becomes_next_in_line_and_one_segment_texts_cannot_overtake_it():
    window = ratelimit.Window(seconds=1.0, budget=3)
    log = [(100.25, 1), (100.5, 1), (100.75, 1)]
    refused, log, next_in_line = decide(log, now=100.0, cost=2, window=window, who="long")
    assert refused == ratelimit.Answer(False, 0.5, since=100.0)
    assert next_in_line == ratelimit.NextInLine("long", 2, 100.5 + ratelimit.CLAIM_GRACE_SECONDS, since=100.0)
    # At 100.375 one segment is free: without the line a 1-segment text would take it, and again at 100.5...
    short, log, next_in_line = decide(log, now=100.375, cost=1, window=window, next_in_line=next_in_line, who="s")
    assert short == ratelimit.Answer(False, 0.375, since=100.375)  # ...but it must leave room for the long one
    assert next_in_line.token == "long"  # and it does not take the line from a text refused before it
    admitted, log, next_in_line = decide(
        log, now=100.5, cost=2, window=window, next_in_line=next_in_line, who="long", since=100.0
    )
    assert admitted.admitted and next_in_line is None
    assert log == [(100.75, 1), (101.5, 2)]


def test_a_text_refused_earlier_goes_ahead_of_the_one_next_in_line():
    window = ratelimit.Window(seconds=1.0, budget=2)
    younger = ratelimit.NextInLine("younger", 2, 101.0, since=100.5)
    answer, log, next_in_line = decide(
        [(100.8, 1)], now=100.6, cost=1, window=window, next_in_line=younger, since=100.2
    )
    assert answer.admitted and log == [(100.8, 1), (101.6, 1)]  # the younger one's hold does not stop it
    answer, log, next_in_line = decide(log, now=100.6, cost=2, window=window, next_in_line=younger, since=100.2)
    assert not answer.admitted and next_in_line.token == "me"


def test_the_line_lapses_if_the_text_next_in_line_never_comes_back():
    window = ratelimit.Window(seconds=1.0, budget=3)
    gone = ratelimit.NextInLine("dead worker", 2, 100.5, since=99.0)
    assert not decide([(101.0, 2)], now=100.4, cost=1, window=window, next_in_line=gone)[0].admitted
    answer, _, next_in_line = decide([(101.0, 2)], now=100.5, cost=1, window=window, next_in_line=gone)
    assert answer.admitted and next_in_line == gone  # lapsed: ignored, and replaced by the next refusal


def test_a_text_that_will_not_wait_so_long_does_not_take_the_line():
    window = ratelimit.Window(seconds=1.0, budget=1)
    _, _, next_in_line = decide([(101.0, 1)], now=100.0, cost=1, window=window, patience=0.5)
    assert next_in_line is None


def test_a_one_segment_text_cannot_take_a_freed_segment_from_the_two_segment_text_next_in_line(admit):
    """Without the line the 1-segment text would be told to come back when the first entry expires, and would
    take that segment; the 2-segment text, needing two, could wait like that for ever."""
    window = ratelimit.Window(seconds=10.0, budget=3)  # nothing expires during the test
    for _ in range(3):  # three entries a second apart, expiring a second apart
        assert admit(1, window).admitted
        time.sleep(1)
    long = admit(2, window, "long", patience=60)
    short = admit(1, window, "short", patience=60)
    assert not long.admitted and not short.admitted
    assert 7 <= long.wait <= 9  # when the second entry expires, two segments are free
    assert short.wait - long.wait >= 0.9  # the short one comes after: when the third expires


def test_a_text_over_the_budget_is_admitted_alone_and_holds_the_log_for_its_share(admit):
    window = ratelimit.Window(seconds=10.0, budget=2)
    assert admit(5, window).admitted
    blocked = admit(1, window)
    assert not blocked.admitted and 24 <= blocked.wait <= 25  # 2.5 windows, not one


def test_acquire_refuses_at_once_when_max_wait_is_too_short(settings, tmp_path, monkeypatch):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    settings.SMS_RATE_LIMIT_KEY = "test:msgcore:acquire"
    assert ratelimit.acquire(cost=1, max_wait=1, rate=0.01)  # holds the log for 100 s
    assert (tmp_path / "test-msgcore-acquire.state").exists()
    sleeps = []
    monkeypatch.setattr(ratelimit.time, "sleep", sleeps.append)
    assert not ratelimit.acquire(cost=1, max_wait=1, rate=0.01)
    assert sleeps == []  # refused rather than waiting out max_wait for nothing


def test_acquire_waits_for_an_admission_within_max_wait_on_redis(settings, redis_key):
    settings.REDIS_URL, settings.SMS_RATE_LIMIT_KEY = redis_key
    settings.SMS_RATE_WINDOW_MARGIN_MS = 0
    assert ratelimit.acquire(cost=1, max_wait=1, rate=0.5)  # one segment per 2 s
    assert not ratelimit.try_admit(cost=1, rate=0.5).admitted  # the window is full...
    assert ratelimit.acquire(cost=1, max_wait=3, rate=0.5)  # ...until that entry expires
    assert not ratelimit.acquire(cost=1, max_wait=0.2, rate=0.5)  # too long for so short a max_wait


def test_acquire_holds_texts_back_when_redis_is_unreachable(settings):
    from tests.support.processes import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    assert not ratelimit.acquire(cost=1, max_wait=1)


@pytest.fixture(params=["redis", "file"])
def limiter_settings(request, settings, tmp_path):
    """Configure acquire/request_left for one backend: the real Redis, or the file log (embedded mode)."""
    if request.param == "redis":
        settings.REDIS_URL, settings.SMS_RATE_LIMIT_KEY = request.getfixturevalue("redis_key")
    else:
        settings.REDIS_URL, settings.VAR_DIR, settings.SMS_RATE_LIMIT_KEY = "", tmp_path, "test:msgcore:sending"
    settings.SMS_RATE_WINDOW_MARGIN_MS = 0
    return settings


def test_request_left_restarts_the_window_from_when_the_request_left(limiter_settings):
    """A text admitted, then held up (a cold process, a slow query) before its request leaves: its window runs from
    the request, so the next window's texts cannot land in the same second at the provider."""
    admitted = ratelimit.acquire(cost=1, max_wait=1, rate=0.5)  # one segment per 2 s
    assert admitted
    time.sleep(1.0)  # held up between admission and the provider call
    ratelimit.request_left(admitted)
    refused = ratelimit.try_admit(cost=1, rate=0.5)
    assert not refused.admitted
    assert refused.wait > 1.5  # two seconds from the request; from admission it would be about one


def test_a_text_that_never_leaves_frees_its_segments_when_its_window_ends(limiter_settings):
    admitted = ratelimit.acquire(cost=1, max_wait=1, rate=0.5)
    assert admitted  # ...but skipped before its request (erased, paused): no `request_left`
    refused = ratelimit.try_admit(cost=1, rate=0.5)
    assert not refused.admitted and refused.wait <= 2.0


def test_a_request_that_leaves_after_its_entry_expired_is_booked_again(limiter_settings):
    """A worker held up for longer than the window between admission and its request: the request is out now,
    so the log counts it from now (the next texts cannot fill the whole window beside it)."""
    admitted = ratelimit.acquire(cost=1, max_wait=1, rate=20)  # budget 20 per 1 s window
    time.sleep(1.1)
    ratelimit.request_left(admitted)  # its entry had expired
    assert [ratelimit.try_admit(cost=1, rate=20).admitted for _ in range(20)] == [True] * 19 + [False]


def test_a_text_admitted_at_once_is_not_looked_at_again(limiter_settings):
    looks = []
    assert ratelimit.acquire(cost=1, max_wait=1, rate=2, still_wanted=lambda: looks.append(1) or True)
    assert looks == []  # the caller's own look, just before, is fresh enough


def test_a_waiting_text_looks_again_just_before_the_try_that_admits_it(limiter_settings):
    """The worker's look at the row (erased? opted out? paused?) is made before the admitting try, not between
    admission and the request, where it would use up the window the text holds."""
    assert ratelimit.acquire(cost=2, max_wait=1, rate=2)  # the 1 s window's budget of 2 is used
    looks = []
    admitted = ratelimit.acquire(
        cost=1, max_wait=3, rate=2, still_wanted=lambda: looks.append(time.monotonic()) or True
    )
    returned = time.monotonic()
    assert admitted
    assert len(looks) == 1
    assert 0 <= returned - looks[0] <= ratelimit.LOOK_FRESH_SECONDS


def test_a_waiting_text_no_longer_wanted_gives_up_at_that_look_and_leaves_the_log_to_others(limiter_settings):
    """Skipped while waiting (erased, opted out, paused): nothing booked, and no longer next in line, so the
    segments it waited for go to the next text at once."""
    assert ratelimit.acquire(cost=2, max_wait=1, rate=2)
    assert ratelimit.acquire(cost=2, max_wait=3, rate=2, still_wanted=lambda: False) is None
    assert ratelimit.acquire(cost=2, max_wait=0.5, rate=2)
