"""The reminder ladder, from VOLUNTEER_REMINDERS: e.g. "18:00,60m" = 18:00 the evening before, and 1 hour before.

Each rung has a stable name that goes into the text's idempotency key, so a rung is sent once per sign-up.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

_EVENING = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_BEFORE = re.compile(r"^(\d{1,4})m$")


@dataclass(frozen=True)
class Rung:
    name: str  # e.g. "eve-1800" or "before-60m"
    evening_time: dt.time | None = None
    minutes_before: int | None = None

    def due_at(self, local_start: dt.datetime) -> dt.datetime:
        """When this rung is due for a shift starting at local_start (aware, in the conference's zone)."""
        if self.evening_time is not None:
            day_before = local_start.date() - dt.timedelta(days=1)
            return dt.datetime.combine(day_before, self.evening_time, tzinfo=local_start.tzinfo)
        return local_start - dt.timedelta(minutes=self.minutes_before)

    def describe(self) -> str:
        if self.evening_time is not None:
            return f"{self.evening_time:%H:%M} the evening before"
        return f"{self.minutes_before} minutes before"


def parse_ladder(value: str, *, name: str = "VOLUNTEER_REMINDERS") -> tuple[Rung, ...]:
    rungs = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if match := _EVENING.match(item):
            time = dt.time(int(match[1]), int(match[2]))
            rungs.append(Rung(name=f"eve-{time:%H%M}", evening_time=time))
        elif match := _BEFORE.match(item):
            rungs.append(Rung(name=f"before-{int(match[1])}m", minutes_before=int(match[1])))
        else:
            raise ImproperlyConfigured(
                f'{name}: "{item}" is neither HH:MM (the evening before) nor Nm (minutes before the start).'
            )
    return tuple(rungs)


def due_rung(rungs, *, local_start: dt.datetime, now: dt.datetime, since: dt.datetime) -> Rung | None:
    """The latest rung already due, if the shift hasn't started; rungs due before `since` (sign-up) never count.

    Only the latest, so nobody gets two reminders in the same minute after a beat outage, and a volunteer
    who signs up at 19:00 for tomorrow morning (just confirmed by text) waits for the 1-hour rung.
    """
    if now >= local_start:
        return None
    due = [(rung.due_at(local_start), rung) for rung in rungs]
    due = [(at, rung) for at, rung in due if since <= at <= now]
    if not due:
        return None
    return max(due, key=lambda pair: pair[0])[1]
