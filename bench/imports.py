"""Delegate import at conference scale: a 1,500-row party file previewed and confirmed on PostgreSQL.

    make bench                      # all benches; or: .venv/bin/python -m bench imports [--rows 1500]

Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cardvote_bench, created if missing),
never the app's DATABASE_URL. It keeps its own conference ("bench-imports") and 650 organisations there,
and deletes that conference's delegates before each run. The file has the party's own headings, an extra
column, consent on every third row and mobiles in a range libphonenumber's tables call unallocated.

It prints times and query counts, never asserts them; the target is under 2 s each for preview and confirm
of 1,500 rows. ``--compare`` also times the old per-row path (django-import-export's resource, still used by
the admin) on the same file, for the ratio.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.sms_outbox import DEFAULT_DATABASE_URL, ensure_database
from bench.table import record

BASE_DIR = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.0
CONFERENCE_SLUG = "bench-imports"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench imports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1500, help="delegates in the file (default 1500)")
    parser.add_argument("--organisations", type=int, default=650, help="CLPs in the database (default 650)")
    parser.add_argument("--compare", action="store_true", help="also time the admin's per-row resource path")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 20_000 or args.organisations < 1:
        parser.error("rows 1–20000, organisations ≥ 1")
    return args


def party_file(rows: int, organisations: int, *, email_domain="example.org") -> bytes:
    lines = ["Forename,Surname,CLP,Mobile number,E-mail address,Membership no,SMS consent wording"]
    for i in range(rows):
        consent = "I agree to texts from the campaign about conference votes" if i % 3 == 0 else ""
        mobile = f"07911 3{i:05d}"  # a range the pinned tables do not list: the import warns, and accepts
        lines.append(f"Del{i},Egate{i},Bench CLP {i % organisations:03d},{mobile},d{i}@{email_domain},L{i},{consent}")
    return ("\n".join(lines) + "\n").encode()


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(BASE_DIR))
    database_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    ensure_database(database_url)
    with tempfile.TemporaryDirectory(prefix="cardvote-bench-imports-") as tmp:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url,
            CARDVOTE_VAR_DIR=tmp,
            LOG_LEVEL="warning",
        )
        os.environ.pop("REDIS_URL", None)  # the import needs no Redis: its pending upload is in the database
        import django

        django.setup()
        return run(args)


def run(args) -> int:
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from delegates import imports
    from delegates.models import Conference, Delegate, Organisation, Region

    call_command("migrate", verbosity=0)
    conference, _ = Conference.objects.get_or_create(
        slug=CONFERENCE_SLUG,
        defaults={"name": "Bench conference", "starts_on": dt.date(2027, 9, 26), "ends_on": dt.date(2027, 9, 29)},
    )
    names = [f"Bench CLP {i:03d}" for i in range(args.organisations)]
    have = set(Organisation.objects.filter(name__in=names).values_list("name", flat=True))
    Organisation.objects.bulk_create(
        Organisation(kind="clp", name=name, region=Region.NORTH_WEST, nation="England", membership=2000)
        for name in names
        if name not in have
    )
    Delegate.objects.filter(conference=conference).delete()
    data = party_file(args.rows, args.organisations)
    edited = party_file(args.rows, args.organisations, email_domain="example.net")

    def measure(label, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            report = imports.import_delegates(conference=conference, **kwargs)
            seconds = time.perf_counter() - started
        if not report.ok:
            print("\n".join(report.lines()[:10]))
            raise SystemExit(f"{label}: the bench file did not import")
        counts = f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged"
        return label, seconds, len(queries), counts

    print(f"Delegate import bench: {args.rows} rows, {args.organisations} organisations, PostgreSQL …", flush=True)
    results = [
        measure("preview (all new)", data=data, dry_run=True),
        measure("confirm (all new)", data=data),
        measure("preview (unchanged)", data=data, dry_run=True),
        measure("confirm (all updated)", data=edited),
    ]
    if args.compare:
        import tablib

        parsed = imports.read_csv(data, kind="delegates")
        headers = [c.field for c in parsed.columns if c.field]
        dataset = tablib.Dataset(*[[cells[h] for h in headers] for _, cells in parsed.rows], headers=headers)
        Delegate.objects.filter(conference=conference).delete()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            imports.DelegateResource(conference=conference).import_data(dataset, dry_run=True, raise_errors=False)
            seconds = time.perf_counter() - started
        results.append(("admin resource preview", seconds, len(queries), "per-row path, for comparison"))

    print()
    width = max(len(r[0]) for r in results)
    print(f"  {'':<{width}}  {'seconds':>8}  {'÷ 2 s target':>12}  {'queries':>7}  result")
    for label, seconds, queries, counts in results:
        print(f"  {label:<{width}}  {seconds:>8.2f}  {seconds / TARGET_SECONDS:>12.2f}  {queries:>7}  {counts}")
    per_row = results[0][1] / args.rows * 1000
    print(f"\n  preview cost per row: {per_row:.2f} ms (the per-row path cost ~9 ms and 8 queries a row)")
    for label, seconds, queries, _counts in results[:4]:
        record("imports", f"{args.rows}-row delegate import: {label}", f"{seconds:.2f} s, {queries} queries",
               f"< {TARGET_SECONDS:g} s", seconds < TARGET_SECONDS)  # fmt: skip
    return 0
