"""Volunteer sign-ups under load: 200 people signing up at once for 20 shifts, through gunicorn and PostgreSQL.

    .venv/bin/python -m bench signups [--people 200 --shifts 20 --capacity 5 --clients 50]

Needs PostgreSQL and the redis-server binary. The database is BENCH_SIGNUPS_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/cardvote_bench_signups, created if missing; the bench deletes its own earlier
rows there). Redis (cache for the rate limits, broker for the confirmation texts, which nobody consumes here) is
a redis-server of the bench's own. gunicorn serves the real WSGI app (gthread workers), static files by WhiteNoise
after a collectstatic into a temporary folder.

Each simulated volunteer GETs the sign-up page (CSRF cookie and the one-time form token) and POSTs the form;
a quarter of them POST twice (a double tap). It prints p50/p95 of the POST, the outcome counts, and
overbookings (confirmed beyond capacity: must be 0) and double sign-ups (must be 0); then the bytes Chromium
transfers for a first load of /shifts/ (HTML, CSS, JS, icon). It never asserts timings. Exit status 1 only if a
shift is overbooked or a double tap signed up twice.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bench.sms_outbox import ensure_database
from bench.table import record

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cardvote_bench_signups"
CHROMIUM = "/usr/bin/chromium"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench signups", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200, help="volunteers signing up (default 200)")
    parser.add_argument("--shifts", type=int, default=20, help="shifts they spread over (default 20)")
    parser.add_argument("--capacity", type=int, default=5, help="places per shift (default 5)")
    parser.add_argument("--clients", type=int, default=50, help="simultaneous connections (default 50)")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args(argv)
    if not (1 <= args.people <= 1000 and 1 <= args.shifts <= 200 and args.capacity >= 1 and args.clients >= 1):
        parser.error("people 1–1000 (drama-range numbers), shifts 1–200, capacity and clients ≥ 1")
    return args


def served_environment(*, database_url, redis_url, var_dir, **extra) -> dict:
    """The environment of a bench that serves the app through gunicorn: its own database, Redis and var dir,
    production-like (DEBUG off), nothing inherited that could reach a real SMS provider. Also applied to this
    process, which sets the database up before gunicorn starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMS_", "TWILIO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CARDVOTE_VAR_DIR=str(var_dir),
        DJANGO_DEBUG="false",
        LOG_LEVEL="warning",
        **extra,
    )
    os.environ.update(env)
    return env


def start_gunicorn(env, port, args, log_path, lifetime):
    from tests.support.processes import bounded, wait_until

    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-k",
        "gthread",
        "-w",
        str(args.gunicorn_workers),
        "--threads",
        str(args.threads),
        "--log-level",
        "warning",
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            bounded(command, lifetime),
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def answers():
        import requests

        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503)
        except requests.RequestException:
            return False

    if not wait_until(answers, timeout=30, interval=0.2):
        raise RuntimeError(f"gunicorn did not start: {Path(log_path).read_text()[-2000:]}")
    return process


TOKEN = re.compile(r'name="(csrfmiddlewaretoken|form_token)" value="([^"]+)"')


def sign_up(base, shift_id, n, double_tap, barrier):
    """One volunteer: load the form, then POST it (twice for a double tap). Returns (seconds per POST, statuses)."""
    import requests

    session = requests.Session()
    url = f"{base}/shifts/{shift_id}/"
    page = session.get(url, timeout=30)
    fields = dict(TOKEN.findall(page.text))
    data = {**fields, "name": f"Bench Volunteer {n}", "mobile": f"07700 900{n % 1000:03d}", "consent": "on"}
    if barrier is not None:
        barrier.wait(timeout=120)  # the first wave taps "Sign up" together
    timings, statuses = [], []
    for _ in range(2 if double_tap else 1):
        started = time.perf_counter()
        try:
            response = session.post(url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=60)
        except requests.RequestException as exc:
            statuses.append(type(exc).__name__)
            continue
        timings.append(time.perf_counter() - started)
        statuses.append(response.status_code)
    return timings, statuses


def transfer_size(url):
    """Bytes Chromium transfers for a first load of the page (navigation and every resource), headers included."""
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
            page.goto(url, wait_until="load")
            entries = page.evaluate(
                """() => [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
                    .map(e => [e.name, e.transferSize])"""
            )
        finally:
            browser.close()
    return entries


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(BASE_DIR))
    database_url = os.environ.get("BENCH_SIGNUPS_DATABASE_URL") or DEFAULT_DATABASE_URL
    ensure_database(database_url)

    from tests.support.processes import free_port, stop_group
    from tests.support.redis_server import RedisServer

    lifetime = 900
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cardvote-bench-signups-")))
        redis = stack.enter_context(RedisServer(workdir=tmp, lifetime=lifetime))
        env = served_environment(
            database_url=database_url,
            redis_url=redis.url(),
            var_dir=tmp,
            # The bench comes from one IP: lift the per-IP limit so it measures sign-ups, not the limiter.
            VOLUNTEER_SIGNUP_RATE_PER_IP="100000/h",
            VOLUNTEER_SIGNUP_RATE_PER_NUMBER="100/h",
        )

        import django

        django.setup()
        from django.core.management import call_command
        from django.db.models import Count, Q

        from delegates.models import Conference
        from tests.volunteers.support import at
        from volunteers.models import Location, Shift, Signup, SignupChange, Volunteer

        call_command("migrate", verbosity=0)
        call_command("collectstatic", verbosity=0, interactive=False)
        Signup.objects.all().delete()
        SignupChange.objects.all().delete()
        Shift.objects.all().delete()
        Volunteer.objects.all().delete()
        Conference.objects.filter(is_current=True).exclude(slug="bench").update(is_current=False)
        conference, _ = Conference.objects.update_or_create(
            slug="bench",
            defaults={
                "name": "Bench Conference 2027",
                "starts_on": "2027-09-26",
                "ends_on": "2027-09-29",
                "is_current": True,
            },
        )
        location, _ = Location.objects.get_or_create(conference=conference, name="ACC Liverpool: main entrance")
        shifts = [
            Shift.objects.create(
                conference=conference,
                role="leafleting",
                location=location,
                starts_at=at(27 + i % 3, 7 + i % 12),
                ends_at=at(27 + i % 3, 7 + i % 12, 50),
                capacity=args.capacity,
                minimum=1,
            )
            for i in range(args.shifts)
        ]

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = start_gunicorn(env, port, args, tmp / "gunicorn.log", lifetime)
        stack.callback(stop_group, gunicorn, grace=5)
        print(
            f"gunicorn: {args.gunicorn_workers} workers × {args.threads} threads; {args.people} volunteers over "
            f"{args.shifts} shifts of {args.capacity}, {args.clients} at a time …",
            flush=True,
        )

        barrier = threading.Barrier(min(args.clients, args.people))
        batches = []
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            futures = [
                pool.submit(
                    sign_up, base, shifts[n % args.shifts].pk, n, n % 4 == 0, barrier if n < barrier.parties else None
                )
                for n in range(args.people)
            ]
            for future in futures:
                batches.append(future.result())
        elapsed = time.monotonic() - started

        timings = sorted(t for ts, _ in batches for t in ts)
        statuses = [s for _, ss in batches for s in ss]
        counts = Shift.objects.filter(pk__in=[s.pk for s in shifts]).annotate(
            confirmed=Count("signups", filter=Q(signups__status="confirmed")),
            waitlisted=Count("signups", filter=Q(signups__status="waitlisted")),
        )
        overbooked = sum(max(s.confirmed - s.capacity, 0) for s in counts)
        confirmed = sum(s.confirmed for s in counts)
        waitlisted = sum(s.waitlisted for s in counts)
        doubles = Signup.objects.values("shift", "volunteer").annotate(n=Count("id")).filter(n__gt=1).count()
        changes_per_signup = SignupChange.objects.count() - Signup.objects.count()

        entries = transfer_size(f"{base}/shifts/")
        total = sum(size for _, size in entries) if entries else None

        def pct(p):
            return timings[min(int(len(timings) * p), len(timings) - 1)] * 1000

        print()
        print(
            f"Sign-up bench: {args.people} volunteers ({args.people // 4 + (args.people % 4 > 0)} double taps), "
            f"{args.shifts} shifts × {args.capacity} places"
        )
        rows = [
            ("POSTs", f"{len(timings)} in {elapsed:.1f} s"),
            ("POST p50", f"{pct(0.50):.0f} ms"),
            ("POST p95", f"{pct(0.95):.0f} ms"),
            ("POST max", f"{timings[-1] * 1000:.0f} ms (mean {statistics.mean(timings) * 1000:.0f} ms)"),
            ("responses", ", ".join(f"{code} × {statuses.count(code)}" for code in sorted(set(statuses), key=str))),
            ("confirmed / waitlisted", f"{confirmed} / {waitlisted} (places {args.shifts * args.capacity})"),
            ("overbookings", str(overbooked)),
            ("double sign-ups", f"{doubles} (history rows beyond one per sign-up: {changes_per_signup})"),
            (
                "/shifts/ first load",
                f"{total / 1024:.1f} KB transferred in {len(entries)} requests"
                if entries
                else "not measured (no Chromium)",
            ),
        ]
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            print(f"  {label:<{width}}  {value}")
        problems = [
            line for line in (tmp / "gunicorn.log").read_text().splitlines() if "ERROR" in line or "CRITICAL" in line
        ]
        if problems:
            print("  gunicorn log:", *problems[-5:], sep="\n    ")
        if entries:
            for name, size in entries:
                print(f"    {size / 1024:6.1f} KB  {name.replace(base, '')}")

        what = f"{args.people} sign-ups at once over {args.shifts} shifts"
        record("signups", f"{what}: POST p50 / p95", f"{pct(0.50):.0f} / {pct(0.95):.0f} ms")
        record("signups", f"{what}: overbookings / double sign-ups", f"{overbooked} / {doubles}", "0 / 0",
               not overbooked and not doubles)  # fmt: skip
        if entries:
            record("signups", "/shifts/ first load on a phone", f"{total / 1024:.1f} KB")
        return 1 if overbooked or doubles else 0
