"""The coordinator dashboard at `/`: composes each domain app's selectors; holds no domain logic itself."""

from django.views.generic import TemplateView

from config.permissions import CoordinatorRequiredMixin
from delegates.models import Conference
from delegates.selectors import conference_overview, over_entitlement_alert
from lobbying import selectors as lobbying_selectors
from lobbying.models import LEVEL_LABELS
from lobbying.views import dashboard_whip
from messaging.selectors import stuck_outbox
from volunteers.selectors import rota_gaps_alert


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
        if alert := rota_gaps_alert(conference=conference):
            context["alerts"].append(alert)
        if alert := lobbying_selectors.pending_proposals_alert(conference=conference):
            context["alerts"].append(alert)
        whip = dashboard_whip(self.request, conference)
        context["alerts"].extend(whip["whip_alerts"])
        context.update(whip, whip_levels=LEVEL_LABELS.items())
        return context
