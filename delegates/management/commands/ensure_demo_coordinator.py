from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "coordinator"
DEMO_PASSWORD = "cardvote-demo"  # noqa: S105  (a demo account, refused unless DJANGO_DEBUG is on)


class Command(BaseCommand):
    help = "Create the demo coordinator account (development only) and print how to log in."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create a demo account with a known password: DJANGO_DEBUG is off.")
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "first_name": "Demo", "last_name": "Coordinator"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get_or_create(name=settings.COORDINATORS_GROUP)[0])
        self.stdout.write(self.style.SUCCESS(f"Log in as “{DEMO_USERNAME}” with password “{DEMO_PASSWORD}”."))
