from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "SMS messaging"

    def ready(self):
        from messaging import checks  # noqa: F401  (registers the SMS settings checks)
