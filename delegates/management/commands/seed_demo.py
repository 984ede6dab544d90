from django.core.management.base import BaseCommand, CommandError

from delegates.demo import seed_demo
from delegates.models import Conference


class Command(BaseCommand):
    help = "Load a realistic demo conference (Labour Party Conference 2027, ACC Liverpool). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="Multiply the organisations and delegates by N.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if any conference exists.")

    def handle(self, *args, scale, if_empty, **options):
        if scale < 1 or scale > 50:
            raise CommandError("--scale must be between 1 and 50.")
        if if_empty and Conference.objects.exists():
            self.stdout.write("Demo data: the database already has a conference; leaving it as it is.")
            return
        result = seed_demo(scale=scale)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {result.conference} — {result.organisations_created} organisations and "
                f"{result.delegates_created} delegates added."
            )
        )
