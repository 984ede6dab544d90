from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConfigConfig(AppConfig):
    """Project-wide pieces: the coordinators group, health check, design system, system checks."""

    default = True
    name = "config"
    verbose_name = "Cardvote"

    def ready(self):
        from config import checks, sessions, signals  # noqa: F401  (registers checks and signal handlers)


class CardvoteAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "config.admin.CardvoteAdminSite"
