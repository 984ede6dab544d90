from django.apps import AppConfig


class DelegatesConfig(AppConfig):
    name = "delegates"
    verbose_name = "Conference and delegates"

    def ready(self):
        from delegates.contacts import delegates_by_number, sms_consent_by_number
        from messaging.registry import register_consent_check, register_contact_resolver

        register_contact_resolver("delegates", delegates_by_number)
        register_consent_check("delegates", sms_consent_by_number)
