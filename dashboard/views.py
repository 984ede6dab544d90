"""The coordinator dashboard at `/`: composes each domain app's selectors; holds no domain logic itself."""

from django.views.generic import TemplateView

from config.caching import read_watermark
from config.permissions import CoordinatorRequiredMixin
from delegates.models import Conference
from delegates.selectors import dashboard_overview, overview_watermark_parts
from lobbying import selectors as lobbying_selectors
from lobbying.models import LEVEL_LABELS
from lobbying.views import dashboard_whip
from messaging.selectors import stuck_outbox
from volunteers.selectors import rota_gaps_alert


class DashboardView(CoordinatorRequiredMixin, TemplateView):
    """The numbers that matter at a glance. A fixed handful of queries, whatever the data size.

    The overview and the whip panels are computed once per change of their data (config/caching.py): the page
    reads both watermarks in one query and, while nothing changed, takes the blocks from the cache.
    """

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
        marks = read_watermark(conference, {**overview_watermark_parts(), **lobbying_selectors.whip_watermark_parts()})
        overview = dashboard_overview(conference=conference, marks=marks)
        context.update(overview)
        if overview["entitlement_alert"]:
            context["alerts"].append(overview["entitlement_alert"])
        if alert := rota_gaps_alert(conference=conference):
            context["alerts"].append(alert)
        if alert := lobbying_selectors.pending_proposals_alert(conference=conference):
            context["alerts"].append(alert)
        whip = dashboard_whip(self.request, conference, marks=marks)
        context["alerts"].extend(whip["whip_alerts"])
        context.update(whip, whip_levels=LEVEL_LABELS.items())
        return context
