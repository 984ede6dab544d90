from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The room above the domain apps: pages that compose several apps' selectors (the `/` dashboard).

    Domain apps never import this one; it may import all of them.
    """

    name = "dashboard"
