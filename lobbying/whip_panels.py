"""The dashboard's whip panels, rendered once per change of their data and shared by every coordinator.

The dashboard and its live fragment (polled every few seconds by every coordinator with the page open) show the
same panels: six motions with their section and region tables are a few hundred cells, and rendering them costs
several times the SQL behind them. So the rendered HTML is cached in the shared cache (Redis in production:
every web process sees the same entry) under a key made of `selectors.whip_watermark` (one cheap query that
changes whenever a stance, delegate, organisation, motion or result does) and the current minute (the "since
yesterday" figures move with the clock). A stale panel is therefore at most a minute behind the clock and never
behind the data. If the cache is down (django-redis ignores its errors) every request renders, as before.
"""

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from lobbying import selectors

TEMPLATE = "lobbying/_whip_panels.html"
CACHE_SECONDS = 120


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


def cached_whip(*, conference, parts: tuple, compute):
    """`compute()` once per change of the whip's data (and per minute), shared by every process through the cache.

    `parts` names what is computed (and for which parameters); `compute` must return something picklable.
    """
    watermark = selectors.whip_watermark(conference)
    minute = timezone.now().strftime("%Y%m%d%H%M")
    digest = hashlib.sha256(repr((watermark, minute, parts)).encode()).hexdigest()[:32]
    key = f"whip:{conference.pk}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


def whip_panels(*, conference, as_of=None) -> WhipPanels:
    """The rendered panels (live, or as of a past moment) and their alerts: from the cache when nothing changed."""

    def compute():
        counts = selectors.whip_panels(conference=conference, as_of=as_of)
        return {"html": str(render_to_string(TEMPLATE, {"whip_counts": counts})), "alerts": _losing_alerts(counts)}

    panels = cached_whip(conference=conference, parts=("panels", TEMPLATE, as_of), compute=compute)
    return WhipPanels(html=mark_safe(panels["html"]), alerts=panels["alerts"])  # noqa: S308 (our own template)
