from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Data protection: subject access, erasure, retention and the access audit.

    A room above the domain apps (like `dashboard`): it composes their selectors and services, and no domain
    app imports it.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "privacy"
    verbose_name = "Data protection"

    def ready(self):
        from config.audit import personal_data_accessed
        from privacy.receivers import write_audit_event

        personal_data_accessed.connect(write_audit_event, dispatch_uid="privacy.write_audit_event")
