from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "SMS messaging"

    def ready(self):
        from django.db.backends.signals import connection_created

        from messaging import checks  # noqa: F401  (registers the SMS settings checks)
        from messaging.privacy import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="cardvote_number_hash")
