"""The dashboard's whip panels, rendered once per change of their data and shared by every coordinator.

The dashboard and its live fragment (polled every few seconds by every coordinator with the page open) show the
same panels: six motions with their section and region tables are a few hundred cells, and rendering them costs
several times the SQL behind them. So the rendered HTML is cached in the shared cache (Redis in production:
every web process sees the same entry) under a key made of `selectors.whip_watermark` (scalar aggregates that
change whenever a stance, delegate, organisation, motion or result does, read in one query) and the current
minute (the "since yesterday" figures move with the clock): config/caching.py. A stale panel is therefore at
most a minute behind the clock and never behind the data. If the cache is down every request renders.
"""

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from config.caching import cached_by_watermark
from lobbying import selectors

TEMPLATE = "lobbying/_whip_panels.html"


@dataclass
class WhipPanels:
    html: str  # safe: rendered by our own template
    alerts: list[dict]  # for the dashboard's alert list: motions projected against our position


def _losing_alerts(counts) -> list[dict]:
    alerts = []
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
    return alerts


def cached_whip(*, conference, parts: tuple, compute, marks: dict | None = None):
    """`compute()` once per change of the whip's data (and per minute), shared by every process through the cache.

    `parts` names what is computed (and for which parameters); `compute` must return something picklable.
    `marks`: watermark values the page already read (`selectors.whip_watermark_parts`), else read here.
    """
    watermark = selectors.whip_watermark(conference, marks)
    return cached_by_watermark(key_prefix=f"whip:{conference.pk}", watermark=watermark, parts=parts, compute=compute)


def whip_panels(*, conference, as_of=None, marks: dict | None = None) -> WhipPanels:
    """The rendered panels (live, or as of a past moment) and their alerts: from the cache when nothing changed."""

    def compute():
        counts = selectors.whip_panels(conference=conference, as_of=as_of)
        return {"html": str(render_to_string(TEMPLATE, {"whip_counts": counts})), "alerts": _losing_alerts(counts)}

    panels = cached_whip(conference=conference, parts=("panels", TEMPLATE, as_of), compute=compute, marks=marks)
    return WhipPanels(html=mark_safe(panels["html"]), alerts=panels["alerts"])  # noqa: S308 (our own template)
