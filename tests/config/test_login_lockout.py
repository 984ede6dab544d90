"""Password guessing is stopped: lockout per account and per address, shared by every process, with a cool-off."""

import datetime as dt
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.factories import CoordinatorFactory
from tests.support.celery_worker import database_url_from_connection
from tests.support.processes import bounded, free_port, stop_group, wait_until

PASSWORD = "correct horse battery staple"
LIMIT = settings.AXES_FAILURE_LIMIT
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cora(db):
    return CoordinatorFactory(username="cora")


def log_in(client, username, password, *, url="/login/", address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_the_right_password_is_refused_after_too_many_wrong_ones_and_accepted_after_the_cool_off(client, cora, url):
    for _ in range(LIMIT - 1):
        assert log_in(client, "cora", "guess", url=url).status_code == 200  # the form again, with its error
    assert log_in(client, "cora", "guess", url=url).status_code == 429  # the LIMIT-th failure locks

    locked = log_in(client, "cora", PASSWORD, url=url)
    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=5)):
        assert log_in(client, "cora", PASSWORD, url=url).status_code == 302
        assert client.session["_auth_user_id"] == str(cora.pk)


def test_an_account_is_locked_whatever_address_the_guesses_come_from(client, cora):
    for n in range(LIMIT):
        log_in(client, "cora", "guess", address=f"10.0.1.{n}")

    assert log_in(client, "cora", PASSWORD, address="10.0.2.1").status_code == 429


def test_an_address_is_locked_whatever_accounts_it_guesses(client, cora):
    for n in range(LIMIT):
        log_in(client, f"someone{n}", "guess", address="10.0.3.1")

    assert log_in(client, "cora", PASSWORD, address="10.0.3.1").status_code == 429
    assert log_in(client, "cora", PASSWORD, address="10.0.3.2").status_code == 302


def test_control_fewer_failures_than_the_limit_do_not_lock(client, cora):
    for _ in range(LIMIT - 1):
        log_in(client, "cora", "guess")
    assert log_in(client, "cora", PASSWORD).status_code == 302


def test_a_header_naming_another_address_is_ignored_unless_a_proxy_is_configured(client, cora):
    for n in range(LIMIT):
        log_in(client, f"someone{n}", "guess", address="10.0.4.1")
    # A client inventing its address does not escape the lockout of the address it connects from.
    spoofed = client.post(
        "/login/", {"username": "cora", "password": PASSWORD}, REMOTE_ADDR="10.0.4.1", HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert spoofed.status_code == 429


def test_behind_a_configured_proxy_the_address_comes_from_its_header(client, cora, settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    for n in range(LIMIT):
        client.post(
            "/login/",
            {"username": f"someone{n}", "password": "guess"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.5.1",
        )
    # The proxy's own address is not locked: only the client's, the right-most entry the proxy appended.
    other = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.5.2"}
    assert client.post("/login/", {"username": "cora", "password": PASSWORD}, **other).status_code == 302
    client.logout()
    same = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.5.1"}
    assert client.post("/login/", {"username": "cora", "password": PASSWORD}, **same).status_code == 429


def test_failures_are_logged_without_the_password_or_the_username(client, cora, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(LIMIT + 1):
        log_in(client, "cora", "hunter2-secret")

    assert "AXES" in caplog.text and "10.0.0.1" in caplog.text
    assert "hunter2-secret" not in caplog.text
    assert "cora" not in caplog.text


def test_the_lockout_lives_in_the_database_not_in_process_memory(client, cora):
    from axes.models import AccessAttempt

    for _ in range(LIMIT):
        log_in(client, "cora", "guess")

    assert AccessAttempt.objects.filter(username="cora", failures_since_start__gte=LIMIT).exists()
    assert "hunter" not in str(AccessAttempt.objects.values_list("post_data", flat=True))


# --- Two real server processes sharing one database ----------------------------------------------------------


class Browser:
    """A cookie-keeping HTTP client for one server: fetches the login form's CSRF token, then posts it."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect())

    def status(self, path, data=None):
        try:
            with self.opener.open(self.base + path, data=data, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return None, ""  # not listening yet

    def log_in(self, username, password):
        _, page = self.status("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
        return self.status("/login/", urllib.parse.urlencode(form).encode())[0]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_server(port, tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CARDVOTE_", "LOGIN_"))}
    env.update(DATABASE_URL=database_url, CARDVOTE_VAR_DIR=str(tmp_path / str(port)), DJANGO_SECRET_KEY="shared")
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "config.wsgi"]
    with (tmp_path / f"{port}.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            bounded(command, 120), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failures_counted_across_two_server_processes_lock_the_account_in_both(tmp_path):
    if connection.vendor != "postgresql":
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run this against PostgreSQL (DATABASE_URL)")
        pytest.skip("two server processes need a shared PostgreSQL database (set DATABASE_URL)")
    CoordinatorFactory(username="cora")
    ports = [free_port(), free_port()]
    servers = [start_server(port, tmp_path, database_url_from_connection()) for port in ports]
    try:
        first, second = Browser(ports[0]), Browser(ports[1])
        for browser in (first, second):
            assert wait_until(lambda b=browser: b.status("/login/")[0] == 200, timeout=60, interval=0.5)

        # Alternate: neither process alone sees LIMIT failures; the LIMIT-th is answered with the lockout.
        for n in range(LIMIT):
            expected = 429 if n == LIMIT - 1 else 200
            assert (first if n % 2 else second).log_in("cora", "guess") == expected

        assert first.log_in("cora", PASSWORD) == 429
        assert second.log_in("cora", PASSWORD) == 429
    finally:
        for server in servers:
            stop_group(server)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_below_the_limit_across_two_processes_the_right_password_works(tmp_path):
    if connection.vendor != "postgresql":
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run this against PostgreSQL (DATABASE_URL)")
        pytest.skip("two server processes need a shared PostgreSQL database (set DATABASE_URL)")
    CoordinatorFactory(username="cora")
    ports = [free_port(), free_port()]
    servers = [start_server(port, tmp_path, database_url_from_connection()) for port in ports]
    try:
        first, second = Browser(ports[0]), Browser(ports[1])
        for browser in (first, second):
            assert wait_until(lambda b=browser: b.status("/login/")[0] == 200, timeout=60, interval=0.5)
        for n in range(LIMIT - 1):
            (first if n % 2 else second).log_in("cora", "guess")
        assert first.log_in("cora", PASSWORD) == 302
    finally:
        for server in servers:
            stop_group(server)
