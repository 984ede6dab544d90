"""Retention: a conference's personal data is anonymised `Conference.retention_days` after it ends.

Beat runs ``apply_retention`` daily (``privacy.tasks.apply_retention``); ``manage.py retention --dry-run`` shows
what would go. The same services as an erasure on request do the work, so whip totals and delivery figures stay
as they were. What goes for a conference past its date:

- its delegates (names, contact details, notes), their stances' and conversations' free text, the personalised
  briefing texts, its lobbying links' volunteer names and mobiles, and volunteers' names on its stances;
- its volunteers: those with a sign-up on its shifts, or who never signed up and registered before its date,
  unless they also have a sign-up at a conference not yet past its own date;
- texts, by number and date (texts belong to no conference): texts to and from the numbers of those delegates
  and volunteers written before the conference's date, and texts to or from any other number written before
  the conference ended, unless a delegate or volunteer still kept (a later conference) holds that number.
  Opt-outs stay in force, keeping only the keyed hash of the number.

Nothing that is already anonymised is counted again, so a second run does nothing and records nothing.
"""

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.audit import RETENTION, record_access
from delegates.models import Conference, Delegate
from delegates.services import erase_delegates
from lobbying.services import erase_lobbying_records
from messaging.privacy import erase_numbers, numbers_texted_before
from messaging.services import relink_opt_outs
from volunteers.models import Signup, Volunteer
from volunteers.services import erase_volunteers

logger = logging.getLogger(__name__)

COUNT_KINDS = (
    "delegates",
    "consents",
    "stance_notes",
    "briefing_texts",
    "assignments",
    "recorder_names",
    "volunteers",
    "signups_cancelled",
    "texts_skipped",
    "texts",
    "replies",
    "opt_out_events",
)


def retention_date(conference: Conference) -> dt.datetime:
    """The moment its data goes: midnight (the conference's time zone) after its last day plus retention_days."""
    day = conference.ends_on + dt.timedelta(days=1 + conference.retention_days)
    return dt.datetime.combine(day, dt.time(), tzinfo=zoneinfo.ZoneInfo(conference.timezone))


def _ended(conference: Conference) -> dt.datetime:
    day = conference.ends_on + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=zoneinfo.ZoneInfo(conference.timezone))


def conferences_due(*, now=None) -> list[Conference]:
    now = now or timezone.now()
    return [c for c in Conference.objects.order_by("ends_on", "pk") if retention_date(c) <= now]


@dataclass
class ConferenceRun:
    conference: Conference
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _anonymise(conference: Conference, *, due_ids: list[int], now) -> dict[str, int]:
    """One conference's part, in the caller's transaction."""
    due_at = retention_date(conference)
    delegates = Delegate.objects.filter(conference=conference, erased_at__isnull=True)
    delegate_ids = list(delegates.values_list("pk", flat=True))
    numbers = set(delegates.exclude(mobile="").values_list("mobile", flat=True))

    busy_elsewhere = Signup.objects.exclude(shift__conference_id__in=due_ids).values("volunteer_id")
    volunteers = (
        Volunteer.objects.filter(erased_at__isnull=True)
        .filter(Q(signups__shift__conference=conference) | Q(signups__isnull=True, created_at__lt=due_at))
        .exclude(pk__in=busy_elsewhere)
        .distinct()
    )
    volunteer_ids = list(volunteers.values_list("pk", flat=True))
    numbers |= set(Volunteer.objects.filter(pk__in=volunteer_ids).values_list("mobile", flat=True))

    counts = dict.fromkeys(COUNT_KINDS, 0)
    parts = [
        erase_lobbying_records(delegate_ids=delegate_ids, conference_ids=[conference.pk], now=now),
        erase_delegates(delegate_ids=delegate_ids, now=now),
        erase_volunteers(volunteer_ids=volunteer_ids, now=now),
        erase_numbers(numbers=numbers, opt_out=False, before=due_at, now=now),
    ]
    # Numbers nobody kept holds, texted while this conference was on or before.
    kept = set(
        Delegate.objects.filter(erased_at__isnull=True).exclude(mobile="").values_list("mobile", flat=True)
    ) | set(Volunteer.objects.filter(erased_at__isnull=True).values_list("mobile", flat=True))
    others = numbers_texted_before(_ended(conference)) - kept - numbers
    parts.append(erase_numbers(numbers=others, opt_out=False, before=_ended(conference), now=now))
    # Next year's delegate (or an active volunteer) with the same number keeps its opt-out matched by number.
    relink_opt_outs(numbers=numbers & kept, via="retention: held by a kept record")
    for part in parts:
        for kind, count in part.items():
            counts[kind] = counts.get(kind, 0) + count
    return counts


class _Rollback(Exception):
    pass


def apply_retention(*, now=None, dry_run: bool = False) -> list[ConferenceRun]:
    """Anonymise every conference past its retention date; one transaction and one AuditEvent per conference
    with something to do. ``dry_run`` counts the same work and rolls it back (nothing written or recorded)."""
    now = now or timezone.now()
    due = conferences_due(now=now)
    due_ids = [c.pk for c in due]
    runs = []
    for conference in due:
        try:
            with transaction.atomic():
                counts = _anonymise(conference, due_ids=due_ids, now=now)
                if dry_run:
                    raise _Rollback
                if any(counts.values()):
                    record_access(
                        action=RETENTION,
                        what=f"Retention: conference {conference.pk} ({conference.retention_days} days after it ended)",
                        count=counts["delegates"] + counts["volunteers"],
                        detail={"conference": conference.pk, "counts": counts},
                    )
        except _Rollback:
            pass
        runs.append(ConferenceRun(conference=conference, counts=counts))
        if not dry_run and any(counts.values()):
            logger.info("retention: conference %s anonymised %s", conference.pk, counts)
    return runs
