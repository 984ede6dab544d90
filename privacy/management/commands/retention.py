from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy import retention
from privacy.erasure import COUNT_LABELS


class Command(BaseCommand):
    help = (
        "Anonymise the personal data of every conference whose end date plus its retention period has passed "
        "(beat does this daily). --dry-run lists what would go, per conference, and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; write nothing.")

    def handle(self, *args, dry_run, **options):
        now = timezone.now()
        runs = retention.apply_retention(now=now, dry_run=dry_run)
        verb = "Would anonymise" if dry_run else "Anonymised"
        if not runs:
            self.stdout.write("No conference is past its retention date.")
        for run in runs:
            conference = run.conference
            when = retention.retention_date(conference).date().isoformat()
            heading = f"{conference.name} (ended {conference.ends_on.isoformat()}, retention date {when})"
            if not run.total:
                self.stdout.write(f"{heading}: nothing left to anonymise.")
                continue
            self.stdout.write(f"{heading}: {verb.lower()}")
            for kind, label in COUNT_LABELS.items():
                if run.counts.get(kind):
                    self.stdout.write(f"  {run.counts[kind]:>7}  {label}")
        upcoming = [c for c in retention.Conference.objects.order_by("ends_on") if retention.retention_date(c) > now]
        for conference in upcoming:
            when = retention.retention_date(conference).date().isoformat()
            self.stdout.write(f"{conference.name}: kept until {when} ({conference.retention_days} days after it ends).")
