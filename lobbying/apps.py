from django.apps import AppConfig


class LobbyingConfig(AppConfig):
    name = "lobbying"
    verbose_name = "Lobbying"

    def ready(self):
        from lobbying import replies
        from lobbying.briefings import coordinator_consent_by_number
        from messaging.registry import register_consent_check, register_reply_handler

        # Replies to briefings that state a stance become proposed stance changes (messaging reads STOP first).
        register_reply_handler(replies.PURPOSE, replies.handle_briefing_reply)
        # A coordinator who gave their own mobile for test briefings asked for those texts.
        register_consent_check("coordinators", coordinator_consent_by_number)
