"""The production web process for real: Procfile.production's `web` line (collectstatic, then gunicorn with
config/gunicorn.py) under production settings, behind a pretend TLS proxy, on 127.0.0.1 with a bounded life."""

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from honcho.environ import parse_procfile

from tests.support.processes import bounded, free_port, stop_group, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("processes")]
ROOT = Path(__file__).resolve().parents[2]
PROCFILE = parse_procfile((ROOT / "Procfile.production").read_text()).processes


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, **headers):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  (a local test server)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()
    except OSError:
        return None, {}, ""


def test_the_production_procfile_runs_gunicorn_and_exactly_one_beat():
    assert set(PROCFILE) == {"web", "worker", "beat"}
    assert "gunicorn -c config/gunicorn.py config.wsgi" in PROCFILE["web"]
    assert "collectstatic --noinput" in PROCFILE["web"]
    assert PROCFILE["worker"].startswith("celery -A config worker") and "-Q" not in PROCFILE["worker"]
    assert PROCFILE["beat"].startswith("celery -A config beat")


def test_gunicorn_serves_https_only_hashed_static_files_and_json_logs_behind_a_proxy(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_URL", "DATABASE_URL"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="config.settings",
        CARDVOTE_VAR_DIR=str(tmp_path),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="cardvote.example.org,127.0.0.1",
        PUBLIC_BASE_URL="https://cardvote.example.org",
        DJANGO_BEHIND_PROXY="1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        PYTHONUNBUFFERED="1",
    )
    migrate = subprocess.run(
        bounded([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], 120), cwd=ROOT, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        web = subprocess.Popen(
            bounded(["sh", "-c", PROCFILE["web"]], 300), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            # collectstatic compresses ~30 MB of files first: ~10 s on a quiet machine, much longer on a busy one.
            assert wait_until(lambda: fetch(f"{base}/healthz")[0] is not None, timeout=240), log_path.read_text()
            # The load balancer's probe: plain HTTP, no redirect.
            status, _, body = fetch(f"{base}/healthz?q=07700900123")
            assert status == 200 and json.loads(body)["database"] == "ok"
            # Plain HTTP from a browser is sent to HTTPS.
            status, headers, _ = fetch(f"{base}/login/")
            assert status == 301 and headers["Location"] == f"https://127.0.0.1:{port}/login/"
            # Through the TLS proxy: HSTS, the policy, Secure cookies, and hashed static files WhiteNoise serves.
            status, headers, page = fetch(f"{base}/login/", **{"X-Forwarded-Proto": "https"})
            assert status == 200, page
            assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
            assert "script-src 'self'" in headers["Content-Security-Policy"]
            assert "Secure" in headers["Set-Cookie"] and "HttpOnly" not in headers["Set-Cookie"]  # csrftoken
            css = re.search(r'href="(/static/css/cardvote\.[0-9a-f]{12}\.css)"', page)
            assert css, page
            status, headers, _ = fetch(f"{base}{css.group(1)}", **{"X-Forwarded-Proto": "https"})
            assert status == 200 and "immutable" in headers["Cache-Control"]
        finally:
            stop_group(web)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(r["logger"] == "gunicorn.access" and '"GET /login/ HTTP/1.1" 200' in r["message"] for r in records)
    assert "07700900123" not in log_path.read_text()
