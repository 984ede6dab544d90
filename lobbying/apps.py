from django.apps import AppConfig


class LobbyingConfig(AppConfig):
    name = "lobbying"
    verbose_name = "Lobbying"
