from django.apps import AppConfig


class LobbyingConfig(AppConfig):
    name = "lobbying"
    verbose_name = "Lobbying"

    def ready(self):
        from lobbying import replies
        from messaging.registry import register_reply_handler

        # Replies to briefings that state a stance become proposed stance changes (messaging reads STOP first).
        register_reply_handler(replies.PURPOSE, replies.handle_briefing_reply)
