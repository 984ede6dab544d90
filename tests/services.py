"""Tests that need real PostgreSQL or Redis skip with a reason locally and fail under CI=true.

CI (.ci/run) sets DATABASE_URL and REDIS_URL; a skip there would hide a broken service setup.
"""

import os

import pytest
from django.conf import settings
from django.db import connection


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str):
    if in_ci():
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def require_postgres():
    if connection.vendor != "postgresql":
        _unavailable("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test")


def require_redis() -> str:
    """Return REDIS_URL once Redis answers a PING."""
    if not settings.REDIS_URL:
        _unavailable("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis at REDIS_URL does not answer: {exc}")
    return settings.REDIS_URL
