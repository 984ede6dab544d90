"""Production settings: `check --deploy` is clean, HTTPS follows PUBLIC_BASE_URL, /healthz is exempt from the
redirect, a proxy's X-Forwarded-Proto is trusted only when DJANGO_BEHIND_PROXY says so, sessions expire on idle,
and every page carries a Content-Security-Policy without 'unsafe-inline'."""

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.factories import CoordinatorFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "cardvote.example.org",
    "PUBLIC_BASE_URL": "https://cardvote.example.org",
}


def run_django(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PUBLIC_BASE_URL"))}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings", CARDVOTE_VAR_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def production_settings(tmp_path, **env) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({n: "
        "getattr(s, n, None) for n in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'CSRF_TRUSTED_ORIGINS', 'SESSION_COOKIE_AGE')} "
        "| {'static': s.STORAGES['staticfiles']['BACKEND']}))"
    )
    result = run_django(code, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_without_a_single_warning_in_production(tmp_path):
    result = run_django(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        tmp_path,
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_an_http_public_base_url_when_debug_is_off(tmp_path):
    env = {**PRODUCTION, "PUBLIC_BASE_URL": "http://cardvote.example.org"}
    result = run_django(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        tmp_path,
        **env,
    )
    assert result.returncode != 0
    assert "cardvote.W001" in result.stderr and "PUBLIC_BASE_URL" in result.stderr


def test_https_settings_follow_an_https_public_base_url_and_env_tunes_them(tmp_path):
    on = production_settings(tmp_path, **PRODUCTION, DJANGO_CSRF_TRUSTED_ORIGINS="https://whip.example.org")
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"] and on["SECURE_SSL_REDIRECT"]
    assert on["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert on["CSRF_TRUSTED_ORIGINS"] == ["https://cardvote.example.org", "https://whip.example.org"]
    assert on["SECURE_PROXY_SSL_HEADER"] is None  # no proxy named: X-Forwarded-Proto is not believed
    assert on["SESSION_COOKIE_AGE"] == 12 * 3600
    assert on["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"

    tuned = production_settings(tmp_path, **PRODUCTION, DJANGO_HSTS_SECONDS="3600", DJANGO_BEHIND_PROXY="1")
    assert tuned["SECURE_HSTS_SECONDS"] == 3600
    assert tuned["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]

    checkout = production_settings(tmp_path)  # a fresh checkout, the tests, gunicorn on 127.0.0.1
    assert not checkout["SESSION_COOKIE_SECURE"] and not checkout["SECURE_SSL_REDIRECT"]
    assert checkout["SECURE_HSTS_SECONDS"] == 0
    assert checkout["static"] == "whitenoise.storage.CompressedStaticFilesStorage"


@pytest.fixture
def https_site(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_except_the_health_probe(client, https_site):
    page = client.get("/login/")
    assert page.status_code == 301 and page["Location"] == "https://testserver/login/"
    assert client.get("/healthz").status_code == 200  # load balancers probe over plain HTTP


@pytest.mark.django_db
def test_https_responses_carry_hsts(client, https_site):
    response = client.get("/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=3600; includeSubDomains; preload"


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy_without_unsafe_inline(client):
    policy = client.get("/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_a_session_expires_after_twelve_idle_hours_and_activity_keeps_it_alive(client, settings):
    user = CoordinatorFactory()
    start = dt.datetime(2026, 9, 27, 8, 0, tzinfo=dt.UTC)

    def expiry():
        return Session.objects.get().expire_date

    with time_machine.travel(start, tick=False) as clock:
        client.force_login(user)
        assert expiry() == start + dt.timedelta(hours=12)
        clock.shift(dt.timedelta(minutes=1))
        assert client.get("/").status_code == 200
        assert expiry() == start + dt.timedelta(hours=12)  # not written on every request
        clock.shift(dt.timedelta(hours=10))
        assert client.get("/").status_code == 200
        assert expiry() == start + dt.timedelta(hours=10, minutes=1, seconds=0) + dt.timedelta(hours=12)
        clock.shift(dt.timedelta(hours=11))  # 21 h after login, 11 h idle: still signed in
        assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(hours=12, minutes=1))  # idle for longer than twelve hours
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
