"""Reads for the data protection pages."""

import datetime as dt

from django.utils import timezone

from delegates.models import Delegate
from privacy.models import AuditEvent
from volunteers.models import Volunteer


def audit_events(*, action: str | None = None, since: dt.date | None = None, until: dt.date | None = None):
    """Audit events, newest first, with their actor (one query per page); dates are whole local days."""
    events = AuditEvent.objects.select_related("actor").order_by("-at", "-pk")
    if action:
        events = events.filter(action=action)
    if since:
        events = events.filter(at__gte=_start_of(since))
    if until:
        events = events.filter(at__lt=_start_of(until + dt.timedelta(days=1)))
    return events


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def numbers_held(*, among=None) -> set[str]:
    """Every mobile a delegate or volunteer record holds now (E.164; erased records hold none), or those of
    ``among`` still held: two queries."""
    delegates = Delegate.objects.filter(erased_at__isnull=True).exclude(mobile="")
    volunteers = Volunteer.objects.filter(erased_at__isnull=True)
    if among is not None:
        delegates, volunteers = delegates.filter(mobile__in=among), volunteers.filter(mobile__in=among)
    return set(delegates.values_list("mobile", flat=True).distinct()) | set(volunteers.values_list("mobile", flat=True))
