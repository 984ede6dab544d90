from django.core.management.base import BaseCommand

from delegates.imports import import_organisations
from delegates.management.commands.import_delegates import finish, read


class Command(BaseCommand):
    help = (
        "Import organisations (CLPs and affiliates) from a CSV file. All or nothing: a file with any bad row "
        "imports nothing and every bad row is listed. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file: name,kind,region,membership,women_members,young_members,...")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")
        parser.add_argument(
            "--skip-bad-rows", action="store_true", help="Import the good rows and list the bad ones it skipped."
        )

    def handle(self, *args, path, dry_run, skip_bad_rows, **options):
        finish(self, import_organisations(data=read(path), dry_run=dry_run, skip_bad_rows=skip_bad_rows))
