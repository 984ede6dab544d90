"""Settings come from the environment; a malformed value stops start-up with a message naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SMS_", "TWILIO_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_start_without_any_server(tmp_path):
    result = start_django(CARDVOTE_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "localhost:6379"),
        ("SMS_BACKEND", "carrier-pigeon"),
        ("SMS_RATE_PER_SECOND", "fast"),
        ("SMS_RATE_PER_SECOND", "0"),
        ("PUBLIC_BASE_URL", "example.org"),
    ],
)
def test_a_malformed_variable_fails_at_start_up_naming_it(tmp_path, variable, value):
    result = start_django(CARDVOTE_VAR_DIR=str(tmp_path), **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_twilio_backend_without_credentials_names_what_is_missing(tmp_path):
    result = start_django(CARDVOTE_VAR_DIR=str(tmp_path), SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC123")
    assert result.returncode != 0
    assert "TWILIO_AUTH_TOKEN" in result.stderr
    assert "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER" in result.stderr


def test_database_and_redis_urls_select_postgres_and_redis(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CARDVOTE_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.postgresql redis://127.0.0.1:6379/0 django_redis.cache.RedisCache" in (result.stdout)
