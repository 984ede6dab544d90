"""Pages at conference scale: queries and server time at seed_demo scale 1 and 4, the whip count against bare SQL.

    .venv/bin/python -m bench pages [--runs 20]     # `python -m bench whip` is the same bench

Needs PostgreSQL. The database is BENCH_WHIP_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/cardvote_bench_whip, created if missing and emptied by the bench: never the
app's DATABASE_URL). For each scale it loads the demo, then, through Django's test client (server time: no
network), times each page --runs times after a warm-up and counts its queries:

- the dashboard `/` for a coordinator (delegates overview, alerts, whip panels for every tracked motion now and
  a day ago; the panels come from the shared cache until their data changes), and the same page right after a
  change (cache emptied: computed and rendered again);
- the whip-count API, a page of the delegate list API, the public shift list `/shifts/` and the rota;
- the bare SQL aggregate that yields the same whip numbers (latest stance per delegate by DISTINCT ON, card
  votes, grouped by motion, section, region and stance), twice as the dashboard needs it (now and a day ago)
  and once as the API does, plus the attending totals.

It prints the ratios (the aim is ≤ 3×), checks the query counts are equal at both scales and that the SQL and
the selectors agree. No timing is asserted: the numbers depend on the machine.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

from bench.sms_outbox import ensure_database

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cardvote_bench_whip"

BARE_SQL = """
WITH latest AS (
    SELECT DISTINCT ON (s.motion_id, s.delegate_id) s.motion_id, s.delegate_id, s.level
    FROM lobbying_stancechange s
    WHERE s.motion_id = ANY(%(motions)s) AND s.at <= %(as_of)s
    ORDER BY s.motion_id, s.delegate_id, s.at DESC, s.id DESC
), delegation AS (
    SELECT organisation_id, COUNT(*) AS attending
    FROM delegates_delegate
    WHERE conference_id = %(conference)s AND is_attending
    GROUP BY organisation_id
)
SELECT l.motion_id, o.kind = 'clp' AS is_clp, o.region, l.level, COUNT(*), SUM(o.membership::float / n.attending)
FROM latest l
JOIN delegates_delegate d ON d.id = l.delegate_id
JOIN delegates_organisation o ON o.id = d.organisation_id
JOIN delegation n ON n.organisation_id = d.organisation_id
WHERE d.conference_id = %(conference)s AND d.is_attending
GROUP BY 1, 2, 3, 4
"""
TOTALS_SQL = """
SELECT o.kind = 'clp', o.region, COUNT(*), SUM(o.membership::float / n.attending)
FROM delegates_delegate d
JOIN delegates_organisation o ON o.id = d.organisation_id
JOIN (SELECT organisation_id, COUNT(*) AS attending FROM delegates_delegate
      WHERE conference_id = %(conference)s AND is_attending GROUP BY organisation_id) n
  ON n.organisation_id = d.organisation_id
WHERE d.conference_id = %(conference)s AND d.is_attending
GROUP BY 1, 2
"""


def _timings_ms(fn, runs) -> list[float]:
    fn()  # warm-up: connections, plans, template loading
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def _p(times, q) -> float:
    return times[min(int(len(times) * q), len(times) - 1)]


def measure(scale, runs):
    import datetime as dt

    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from delegates.models import Conference, Delegate
    from lobbying import selectors
    from lobbying.models import StanceChange
    from tests.factories import CoordinatorFactory

    # A clean slate: the bench's own database, emptied schema and all (flush trips over tables of dropped apps).
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--scale", str(scale), stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    cache.clear()
    conference = Conference.current()
    motions = list(selectors.motions_for_dashboard(conference))
    coordinator = Client()
    coordinator.force_login(CoordinatorFactory(username="bench"))
    public = Client()

    def get(client, url):
        def fetch():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return fetch

    def dashboard_after_a_change():
        cache.clear()  # as after a stance change: the panels are computed and rendered again
        coordinator.get("/")

    now = timezone.now()
    params = {"motions": [m.pk for m in motions], "conference": conference.pk}

    def bare_sql():
        """What the dashboard's whip numbers cost in SQL: totals, stances now and a day ago."""
        with connection.cursor() as cursor:
            cursor.execute(TOTALS_SQL, params)
            cursor.fetchall()
            for as_of in (now, now - dt.timedelta(days=1)):
                cursor.execute(BARE_SQL, {**params, "as_of": as_of})
                rows = cursor.fetchall()
        return rows

    def bare_sql_now():
        """What the whip-count API's numbers cost in SQL: totals and stances now."""
        with connection.cursor() as cursor:
            cursor.execute(TOTALS_SQL, params)
            cursor.fetchall()
            cursor.execute(BARE_SQL, {**params, "as_of": now})
            return cursor.fetchall()

    # The SQL and the selectors must agree before their times are compared.
    by_sql = {}
    with connection.cursor() as cursor:
        cursor.execute(BARE_SQL, {**params, "as_of": now})
        for motion_id, _is_clp, _region, level, n, _votes in cursor.fetchall():
            by_sql[(motion_id, level)] = by_sql.get((motion_id, level), 0) + n
    by_selector = {
        (count["motion"].pk, row["level"]): row["delegates"]
        for count in selectors.whip_counts(conference=conference, motions=motions, as_of=now)
        for row in count["levels"]
        if row["level"] != "unknown" and row["delegates"]
    }

    pages = {
        "dashboard": (coordinator, "/"),
        "whip-count API": (coordinator, "/api/whip-counts/"),
        "delegate list API, page 2": (coordinator, "/api/delegates/?page=2"),
        "public shift list": (public, "/shifts/"),
        "rota": (coordinator, "/shifts/rota/"),
    }
    measured = {}
    for name, (client, url) in pages.items():
        fetch = get(client, url)
        times = _timings_ms(fetch, runs)  # warmed up first: the dashboard's panels are in the cache
        with CaptureQueriesContext(connection) as queries:
            fetch()
        measured[name] = {"p50": _p(times, 0.5), "p95": _p(times, 0.95), "queries": len(queries.captured_queries)}
    sql = _timings_ms(bare_sql, runs)
    sql_now = _timings_ms(bare_sql_now, runs)
    uncached = _timings_ms(dashboard_after_a_change, runs)
    return {
        "scale": scale,
        "delegates": Delegate.objects.for_conference(conference).count(),
        "stances": StanceChange.objects.count(),
        "motions": len(motions),
        "pages": measured,
        "sql_ms": _p(sql, 0.5),
        "sql_now_ms": _p(sql_now, 0.5),
        "uncached_ms": _p(uncached, 0.5),
        "agree": by_sql == by_selector,
    }


def report(results) -> None:
    from bench.table import record

    print("\nPages at conference scale (Django test client, server time; medians and 95th percentiles)")
    print("  The dashboard as coordinators poll it: its whip panels are cached until a stance, delegate,")
    print("  organisation or motion changes, or the minute turns; 'after a change' is the request that recomputes.")
    for r in results:
        print(
            f"  scale {r['scale']}: {r['delegates']} delegates, {r['stances']} stance changes, {r['motions']} motions"
        )
        for name, m in r["pages"].items():
            print(f"    {name:<28} {m['queries']:>3} queries  p50 {m['p50']:7.1f} ms  p95 {m['p95']:7.1f} ms")
        print(f"    {'bare SQL (dashboard)':<28}      p50 {r['sql_ms']:7.1f} ms")
        print(f"    {'bare SQL (API: now only)':<28}      p50 {r['sql_now_ms']:7.1f} ms")
        print(f"    {'dashboard after a change':<28}      p50 {r['uncached_ms']:7.1f} ms")
        print(f"    selectors and SQL agree: {'yes' if r['agree'] else 'NO'}")

    one, four = results
    for name in one["pages"]:
        q1, q4 = one["pages"][name]["queries"], four["pages"][name]["queries"]
        record("pages", f"{name}: queries, scale 1 / 4", f"{q1} / {q4}", "equal", q1 == q4)
        for r in results:
            m = r["pages"][name]
            record("pages", f"{name}, scale {r['scale']}: p50 / p95", f"{m['p50']:.1f} / {m['p95']:.1f} ms")
    for r in results:
        for name, sql_ms in (("dashboard", r["sql_ms"]), ("whip-count API", r["sql_now_ms"])):
            ratio = r["pages"][name]["p50"] / sql_ms if sql_ms else float("nan")
            record("pages", f"{name} ÷ bare SQL, scale {r['scale']}", f"{ratio:.2f}×", "≤ 3×", ratio <= 3)
        ratio = r["uncached_ms"] / r["sql_ms"] if r["sql_ms"] else float("nan")
        record("pages", f"dashboard after a change ÷ bare SQL, scale {r['scale']}", f"{ratio:.2f}×")
        record("pages", f"whip numbers agree with the bare SQL, scale {r['scale']}", "yes" if r["agree"] else "NO",
               "yes", r["agree"])  # fmt: skip
    growth = four["pages"]["dashboard"]["p50"] / one["pages"]["dashboard"]["p50"]
    record("pages", "dashboard p50 at scale 4 ÷ scale 1 (data × 4)", f"{growth:.2f}×")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per page (default 20)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BASE_DIR))
    database_url = os.environ.get("BENCH_WHIP_DATABASE_URL") or DEFAULT_DATABASE_URL
    ensure_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.conf import settings

    # The bench empties its database: make sure it is the bench's own.
    name = database_url.rsplit("/", 1)[-1]
    if settings.DATABASES["default"]["NAME"] != name:
        print(f"bench pages: Django is configured for another database than {name}; run it on its own.")
        return 2

    results = [measure(scale, args.runs) for scale in (1, 4)]
    report(results)
    return 0 if all(r["agree"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
