from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from delegates.imports import audit_import, import_delegates
from delegates.models import Conference


class Command(BaseCommand):
    help = (
        "Import delegates from a CSV file into the current conference (or --conference). All or nothing "
        "(unless --skip-bad-rows): a file with any bad row imports nothing and every bad row is listed. "
        "Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file: first_name,last_name,organisation,gender,seat_type,mobile,...")
        parser.add_argument("--conference", help="Slug or id of the conference (default: the current one).")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")
        parser.add_argument(
            "--skip-bad-rows", action="store_true", help="Import the good rows and list the bad ones it skipped."
        )

    def handle(self, *args, path, conference, dry_run, skip_bad_rows, **options):
        target = find_conference(conference)
        report = import_delegates(
            data=read(path),
            conference=target,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            source=f"imported file {Path(path).name} (manage.py import_delegates)",
        )
        finish(self, report)


def find_conference(value):
    if not value:
        conference = Conference.current()
        if conference is None:
            raise CommandError("No conference exists yet: create one (or run seed_demo) first.")
        return conference
    lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
    conference = Conference.objects.filter(**lookup).first()
    if conference is None:
        raise CommandError(f"No conference with slug or id “{value}”.")
    return conference


def read(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None


def finish(command, report):
    """Print the report; exit non-zero (CommandError) when the file was refused."""
    for line in report.lines()[1:]:
        command.stdout.write(line)
    if not report.ok:
        raise CommandError(report.summary())
    if report.committed:
        audit_import(report, how="command")
    command.stdout.write(command.style.SUCCESS(report.summary()))
