"""Access logs and the app's own logs record paths, never query strings (search terms are personal data).

Real servers: gunicorn with config/gunicorn.py (production) and the development server, each a subprocess on
127.0.0.1 with a bounded lifetime, asked for pages whose query strings carry a phone number and a name.
"""

import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.logfilters import StripQueryStringFilter, strip_query
from tests.support.processes import bounded, free_port, stop_group, wait_until

ROOT = Path(__file__).resolve().parents[2]
PERSONAL = ("07700900123", "Lovelace")
PATHS = ["/healthz?q=07700900123", "/delegates/?q=Lovelace", "/login/?next=/delegates/%3Fq%3D07700900123"]


def server_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CARDVOTE_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    return env


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  (a local test server)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def serve_and_log(command, port, tmp_path) -> str:
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            bounded(command, 60), cwd=ROOT, env=server_env(tmp_path), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            assert wait_until(lambda: get(f"http://127.0.0.1:{port}/healthz") is not None, timeout=40), (
                log_path.read_text()
            )
            for path in PATHS:
                get(f"http://127.0.0.1:{port}{path}")
            wait_until(lambda: "/login/" in log_path.read_text(), timeout=5)
        finally:
            stop_group(process)
    return log_path.read_text()


def test_gunicorns_access_log_records_paths_without_query_strings(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}"]
    output = serve_and_log([*command, "--workers", "1", "config.wsgi"], port, tmp_path)

    assert '"GET /delegates/ HTTP/1.1" 302' in output, output
    assert '"GET /login/ HTTP/1.1" 200' in output, output
    assert not [word for word in PERSONAL if word in output], output


def test_the_development_servers_log_records_paths_without_query_strings(tmp_path):
    port = free_port()
    command = [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"]
    output = serve_and_log(command, port, tmp_path)

    assert '"GET /delegates/ HTTP/1.1" 302' in output, output
    assert not [word for word in PERSONAL if word in output], output


def test_control_the_development_servers_default_logging_would_record_the_query_string():
    """Without our filter, the request line is logged as the client sent it: the tests above can fail."""
    args = ("GET /d/?q=07700 HTTP/1.1", "200", "12")
    record = logging.LogRecord("django.server", logging.INFO, "", 0, '"%s" %s %s', args, None)
    assert "07700" in record.getMessage()
    StripQueryStringFilter().filter(record)
    assert record.getMessage() == '"GET /d/ HTTP/1.1" 200 12'


@pytest.mark.parametrize("logger_name", ["", "django.server", "django.request", "django.security", "cardvote.x"])
def test_every_logger_writes_only_through_handlers_that_strip_query_strings(logger_name):
    handlers, logger = [], logging.getLogger(logger_name)
    while logger:
        handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, StripQueryStringFilter) for f in handler.filters), (logger_name, handler)


def test_a_query_string_is_removed_wherever_a_path_appears():
    assert strip_query("Not Found: /delegates/?q=a@b.org&page=2") == "Not Found: /delegates/"
    assert strip_query("next=/x/?q=1 then /y/") == "next=/x/ then /y/"
    assert strip_query("no path here? fine") == "no path here? fine"
