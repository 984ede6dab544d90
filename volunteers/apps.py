from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = "Volunteers"

    def ready(self):
        from messaging.registry import register_consent_check, register_contact_resolver, register_reply_handler
        from volunteers import services
        from volunteers.selectors import sms_consent_by_number, volunteers_by_number

        register_reply_handler(services.PURPOSE_OFFER, services.handle_reply)
        register_reply_handler(services.PURPOSE_REMINDER, services.handle_reply)
        register_contact_resolver("volunteers", volunteers_by_number)
        register_consent_check("volunteers", sms_consent_by_number)
