"""The coordinator dashboard at `/`: composes each domain app's selectors; holds no domain logic itself."""

from django.views.generic import TemplateView

from config.permissions import CoordinatorRequiredMixin
from delegates.models import Conference
from delegates.selectors import conference_overview, over_entitlement_alert
from messaging.selectors import stuck_outbox


class DashboardView(CoordinatorRequiredMixin, TemplateView):
    """The numbers that matter at a glance. A fixed handful of aggregate queries, whatever the data size."""

    template_name = "dashboard/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        conference = Conference.current()
        context["conference"] = conference
        # Warnings for the top of the page, from any app: dicts with "level" ("warning" or "error"), "text", "url".
        context["alerts"] = []
        stuck = stuck_outbox()
        if stuck:
            context["alerts"].append({"level": "error", "text": stuck.describe(), "url": ""})
        if conference is None:
            return context
        context.update(conference_overview(conference=conference))
        if alert := over_entitlement_alert(conference=conference):
            context["alerts"].append(alert)
        return context
