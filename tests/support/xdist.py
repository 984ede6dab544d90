"""Keeps pytest-xdist workers (`make test` runs two) out of each other's way.

Each worker gets its own Redis database (the broker, the cache, the rate limiter's keys) and its own var dir
(file cache, embedded broker, beat schedule). PostgreSQL needs nothing here: pytest-django already gives
each worker its own test database (test_<name>_gw0, test_<name>_gw1, ...); drills take free ports and
per-test temporary folders.

Applied to the environment before Django reads its settings (tests/settings.py), so every derived setting
follows, and subprocesses a test starts with the test's environment inherit it.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
REDIS_DATABASES = 16  # redis-server's default `databases`
_MARK = "CARDVOTE_XDIST_WORKER"  # set once applied: a subprocess inheriting the environment must not shift again


def worker_index(env) -> int | None:
    worker = env.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None


def redis_url_for_worker(url: str, index: int) -> str:
    """Worker 0 keeps the configured database; worker N (N >= 1) takes database + 7 + N (mod 16), away from
    the low numbers that CI (0) and developers' own runs use."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return url
    database = int(parts.path.lstrip("/") or 0)
    if index:
        database = (database + 7 + index) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{database}"))


def isolate(env=os.environ) -> None:
    index = worker_index(env)
    if index is None or env.get(_MARK) == str(index):
        return
    if env.get("REDIS_URL"):
        env["REDIS_URL"] = redis_url_for_worker(env["REDIS_URL"], index)
    env["CARDVOTE_VAR_DIR"] = str(Path(env.get("CARDVOTE_VAR_DIR") or BASE_DIR / "var") / f"xdist-gw{index}")
    env[_MARK] = str(index)
