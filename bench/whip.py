"""The whip count at conference scale: the dashboard's server time at seed_demo scale 1 and 4, against the bare SQL.

    .venv/bin/python -m bench whip [--runs 15]     # or: python -m bench.whip

Needs PostgreSQL. The database is BENCH_WHIP_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/cardvote_bench_whip, created if missing and emptied by the bench: never the
app's DATABASE_URL). For each scale it loads the demo, then times (median of --runs, after a warm-up):

- the dashboard `/` rendered for a coordinator through Django's test client (whole page: delegates overview,
  whip counts for every tracked motion now and a day ago, templates);
- the bare SQL aggregate that yields the same whip numbers (latest stance per delegate by DISTINCT ON, card
  votes, grouped by motion, section, region and stance), run twice as the dashboard does (now and a day ago),
  plus the attending totals.

It prints the ratio of the two (the aim is ≤ 3×) and checks the SQL and the selectors agree. No timing is
asserted: the numbers depend on the machine.
"""

import argparse
import io
import os
import statistics
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


def _median_ms(fn, runs):
    fn()  # warm-up: connections, plans, template loading
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(scale, runs):
    import datetime as dt

    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
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
    conference = Conference.current()
    motions = list(selectors.motions_for_dashboard(conference))
    client = Client()
    client.force_login(CoordinatorFactory(username="bench"))

    def dashboard():
        response = client.get("/")
        assert response.status_code == 200, response.status_code

    def dashboard_after_a_change():
        cache.clear()  # as after a stance change: the panels are computed and rendered again
        dashboard()

    now = timezone.now()
    params = {"motions": [m.pk for m in motions], "conference": conference.pk}

    def bare_sql():
        with connection.cursor() as cursor:
            cursor.execute(TOTALS_SQL, params)
            cursor.fetchall()
            for as_of in (now, now - dt.timedelta(days=1)):
                cursor.execute(BARE_SQL, {**params, "as_of": as_of})
                rows = cursor.fetchall()
        return rows

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
    agree = by_sql == by_selector

    return {
        "scale": scale,
        "delegates": Delegate.objects.for_conference(conference).count(),
        "stances": StanceChange.objects.count(),
        "motions": len(motions),
        "dashboard_ms": _median_ms(dashboard, runs),
        "uncached_ms": _median_ms(dashboard_after_a_change, runs),
        "sql_ms": _median_ms(bare_sql, runs),
        "agree": agree,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench whip", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per measurement (median; default 15)")
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
        print(f"bench whip: Django is configured for another database than {name}; run it on its own.")
        return 2

    results = [measure(scale, args.runs) for scale in (1, 4)]

    print("\nWhip count (dashboard `/` server time vs the bare SQL aggregate; medians)")
    print("  dashboard: as coordinators poll it (panels cached until a stance, delegate, organisation or motion")
    print("  changes, or the minute turns); after a change: the first request that computes and renders them again.")
    print(
        f"  {'scale':>5} {'delegates':>9} {'stances':>8} {'dashboard':>10} {'bare SQL':>9} {'ratio':>6}"
        f" {'after a change':>15} {'ratio':>6}  agree"
    )
    for r in results:
        ratio = r["dashboard_ms"] / r["sql_ms"] if r["sql_ms"] else float("nan")
        uncached = r["uncached_ms"] / r["sql_ms"] if r["sql_ms"] else float("nan")
        print(
            f"  {r['scale']:>5} {r['delegates']:>9} {r['stances']:>8} {r['dashboard_ms']:>8.1f}ms"
            f" {r['sql_ms']:>7.1f}ms {ratio:>5.2f}× {r['uncached_ms']:>13.1f}ms {uncached:>5.2f}×"
            f"  {'yes' if r['agree'] else 'NO'}"
        )
    growth = results[1]["dashboard_ms"] / results[0]["dashboard_ms"]
    print(f"  dashboard time at scale 4 ÷ scale 1: {growth:.2f}× (data ×4)")
    return 0 if all(r["agree"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
