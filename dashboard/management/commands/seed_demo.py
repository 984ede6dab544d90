"""`manage.py seed_demo`: the demo conference, then each domain app's own demo data on top of it.

It lives here, above the domain apps, because `delegates` may not import `lobbying` or `volunteers`. Each app
that has demo data provides `<app>/demo.py` with `seed(*, conference, scale, seed) -> str` (a one-line summary);
it must be safe to run again.
"""

import importlib
import importlib.util

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from delegates.demo import seed_demo
from delegates.models import Conference

# Seeded in this order: later apps may build on earlier ones (lobbying's stances on delegates, ...).
APP_SEEDERS = ("lobbying", "volunteers")


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
        for app in APP_SEEDERS:
            if importlib.util.find_spec(f"{app}.demo") is None:
                continue
            module = importlib.import_module(f"{app}.demo")
            with transaction.atomic():
                summary = module.seed(conference=result.conference, scale=scale, seed=2027)
            self.stdout.write(self.style.SUCCESS(f"Demo data ({app}): {summary}"))
