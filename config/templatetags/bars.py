"""Bar widths as classes, not style="": the Content-Security-Policy allows no inline styles.

`{{ share|width_class }}` gives `pw-375` for 37.5% (static/css/bars.css has one class per half per cent, 0–100);
`{{ share|left_class }}` the same for `left:`. Half a per cent is under 7 px on the widest screen.
"""

from django import template

register = template.Library()


def _per_mille_step(value) -> int:
    """A percentage, clamped to 0–100 and rounded to the nearest half per cent, in tenths of a per cent."""
    try:
        percent = float(value)
    except (TypeError, ValueError):
        return 0
    percent = min(100.0, max(0.0, percent))
    return round(percent * 2) * 5


@register.filter
def width_class(value) -> str:
    return f"pw-{_per_mille_step(value)}"


@register.filter
def left_class(value) -> str:
    return f"pl-{_per_mille_step(value)}"
