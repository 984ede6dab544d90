"""HTTP load on the public shift list and the dashboard, through gunicorn with several workers, driven by locust.

    .venv/bin/python -m bench http [--users 40 --seconds 30 --gunicorn-workers 2]

Needs PostgreSQL and the redis-server binary. The database is BENCH_HTTP_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/cardvote_bench_http, created if missing; the demo conference is seeded into it
once). Redis (cache, broker, rate limits) is a redis-server of the bench's own. gunicorn serves the real WSGI app
(gthread workers, DJANGO_DEBUG=false, static files by WhiteNoise after a collectstatic into a temporary folder).

locust runs headless for a bounded time against 127.0.0.1 only (bench/locustfile.py: three volunteers on /shifts/
for each coordinator loading the dashboard and polling its whip fragment). It prints requests per second, p50
and p95 per page and the error rate (target 0). No timing is asserted.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.sms_outbox import ensure_database
from bench.table import record

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cardvote_bench_http"
USER, PASSWORD = "bench-http", "bench-http-password-1"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=40, help="simultaneous locust users (default 40)")
    parser.add_argument("--seconds", type=int, default=30, help="how long the load lasts (default 30)")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args(argv)
    if not (1 <= args.users <= 500 and 5 <= args.seconds <= 600 and args.gunicorn_workers >= 2):
        parser.error("users 1–500, seconds 5–600, at least 2 gunicorn workers")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(BASE_DIR))
    database_url = os.environ.get("BENCH_HTTP_DATABASE_URL") or DEFAULT_DATABASE_URL
    ensure_database(database_url)

    from bench.signups import served_environment, start_gunicorn
    from tests.support.processes import bounded, free_port, stop_group
    from tests.support.redis_server import RedisServer

    lifetime = args.seconds + 600
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cardvote-bench-http-")))
        redis = stack.enter_context(RedisServer(workdir=tmp, lifetime=lifetime))
        env = served_environment(database_url=database_url, redis_url=redis.url(), var_dir=tmp)

        import django

        django.setup()
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command

        from delegates.models import Conference

        call_command("migrate", verbosity=0)
        call_command("collectstatic", verbosity=0, interactive=False)
        if Conference.current() is None:
            print("Seeding the demo conference (scale 1) into the bench database …", flush=True)
            call_command("seed_demo", verbosity=0)
        user, _ = User.objects.get_or_create(username=USER, defaults={"is_staff": True})
        user.set_password(PASSWORD)
        user.is_active = user.is_staff = True
        user.save()
        user.groups.add(Group.objects.get_or_create(name="coordinators")[0])

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = start_gunicorn(env, port, args, tmp / "gunicorn.log", lifetime)
        stack.callback(stop_group, gunicorn, grace=5)
        print(
            f"gunicorn: {args.gunicorn_workers} workers × {args.threads} threads; locust: {args.users} users for "
            f"{args.seconds} s …",
            flush=True,
        )
        prefix = tmp / "locust"
        command = [
            sys.executable, "-m", "locust", "-f", str(BASE_DIR / "bench" / "locustfile.py"), "--headless",
            "--host", base, "-u", str(args.users), "-r", str(max(args.users // 5, 1)), "-t", f"{args.seconds}s",
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5",
        ]  # fmt: skip
        subprocess.run(
            bounded(command, args.seconds + 120),
            cwd=BASE_DIR,
            env={**env, "BENCH_HTTP_USER": USER, "BENCH_HTTP_PASSWORD": PASSWORD},
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "locust.log", "wb"),  # noqa: SIM115 (closed with the folder)
        )
        stats_path = Path(f"{prefix}_stats.csv")
        if not stats_path.exists():
            print("locust wrote no statistics; its log:", (tmp / "locust.log").read_text()[-2000:])
            return 1
        with stats_path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        problems = [
            line for line in (tmp / "gunicorn.log").read_text().splitlines() if "ERROR" in line or "CRITICAL" in line
        ]
        failures_path = Path(f"{prefix}_failures.csv")
        failure_rows = list(csv.DictReader(failures_path.open(newline=""))) if failures_path.exists() else []

    print()
    print(f"HTTP load: {args.users} users for {args.seconds} s, gunicorn {args.gunicorn_workers} workers")
    print(f"  {'page':<34} {'requests':>8} {'failures':>8} {'req/s':>7} {'p50':>7} {'p95':>7}")
    status = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all pages"
        requests, failures = int(row["Request Count"]), int(row["Failure Count"])
        rps, p50, p95 = float(row["Requests/s"]), row["50%"], row["95%"]
        print(f"  {name:<34} {requests:>8} {failures:>8} {rps:>7.1f} {p50:>5} ms {p95:>5} ms")
        if name in ("/shifts/", "/ (dashboard)", "all pages"):
            rate = failures / requests if requests else 1.0
            record("http", f"{name} under load ({args.users} users, gunicorn ×{args.gunicorn_workers}): req/s, p95",
                   f"{rps:.1f}/s, {p95} ms")  # fmt: skip
            record("http", f"{name} under load: error rate", f"{rate:.2%} of {requests}", "0", failures == 0)
            status = status or (1 if failures else 0)
    for row in failure_rows:
        print(f"  failed: {row['Method']} {row['Name']}: {row['Error'][:150]} × {row['Occurrences']}")
    if problems:
        print("  gunicorn log:", *problems[-5:], sep="\n    ")
    return status
