"""The coordinator dashboard at `/`: composes each domain app's selectors; holds no domain logic itself."""

from django.views.generic import TemplateView

from config.permissions import CoordinatorRequiredMixin
from delegates.models import Conference
from delegates.selectors import conference_overview, over_entitlement_alert
from lobbying import selectors as lobbying_selectors
from lobbying.forms import read_as_of
from lobbying.models import LEVEL_LABELS
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
        context.update(self.whip(conference, context["alerts"]))
        return context

    def whip(self, conference, alerts) -> dict:
        """Lobbying: the whip count per motion (live, or as of a past moment), and a warning where we are losing."""
        as_of, form = read_as_of(self.request, conference)
        counts = lobbying_selectors.whip_panels(conference=conference, as_of=as_of)
        for count in counts:
            motion = count["motion"]
            losing = (motion.position == "support" and count["margin"] < 0) or (
                motion.position == "oppose" and count["margin"] > 0
            )
            if losing and not motion.is_closed:
                alerts.append(
                    {
                        "level": "warning",
                        "text": f"{motion}: projected {count['projected_outcome']}, against our position.",
                        "url": f"#whip-{motion.pk}",
                    }
                )
        return {"whip_counts": counts, "whip_as_of": as_of, "whip_form": form, "whip_levels": LEVEL_LABELS.items()}
