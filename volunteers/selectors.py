"""Reads for the volunteer pages, the rota and the API. Each answers in a fixed number of queries."""

import datetime as dt
import itertools
import zoneinfo

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from messaging.phones import masked
from messaging.registry import ConsentDecision, Contact
from volunteers.models import Shift, Signup, SignupChange, Volunteer, VolunteerConsent


def public_shifts(conference, *, now=None):
    """Upcoming, uncancelled shifts with places taken and waiting (one query). No names: counts only."""
    return (
        Shift.objects.filter(conference=conference)
        .upcoming(now)
        .select_related("location", "conference")
        .with_counts()
        .order_by("starts_at", "role", "location__name", "pk")
    )


def group_by_day(shifts, tz_name: str):
    """[(date, [shifts])] in the conference's zone, for pages listing shifts day by day."""
    tz = zoneinfo.ZoneInfo(tz_name)
    return [
        (day, list(items))
        for day, items in itertools.groupby(shifts, key=lambda s: timezone.localtime(s.starts_at, tz).date())
    ]


def day_bounds(conference, day: dt.date):
    tz = zoneinfo.ZoneInfo(conference.timezone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def shift_days(conference) -> list[dt.date]:
    """The days that have shifts, in the conference's zone (one query)."""
    tz = zoneinfo.ZoneInfo(conference.timezone)
    starts = Shift.objects.filter(conference=conference).values_list("starts_at", flat=True)
    return sorted({timezone.localtime(s, tz).date() for s in starts})


def rota(conference, day: dt.date):
    """A day's shifts with counts and their sign-ups and volunteers (three queries: shifts, sign-ups, leads in 1)."""
    start, end = day_bounds(conference, day)
    live = (
        Signup.objects.exclude(status=Signup.Status.CANCELLED)
        .select_related("volunteer")
        .order_by("status", "queued_at", "pk")
    )
    return (
        Shift.objects.filter(conference=conference, starts_at__gte=start, starts_at__lt=end)
        .select_related("location", "conference", "lead")
        .with_counts()
        .prefetch_related(Prefetch("signups", queryset=live, to_attr="live_signups"))
        .order_by("starts_at", "role", "location__name", "pk")
    )


def volunteer_signups(volunteer):
    """A volunteer's own sign-ups, soonest first, for their private page and calendar feed."""
    return (
        Signup.objects.filter(volunteer=volunteer)
        .select_related("shift__location", "shift__conference")
        .order_by("shift__starts_at", "pk")
    )


def volunteers_by_number(numbers: set[str]) -> dict[str, Contact]:
    """For the replies inbox: name the volunteer behind a number (one query)."""
    found = {}
    for volunteer in Volunteer.objects.filter(mobile__in=numbers).only("pk", "name", "mobile"):
        found[volunteer.mobile] = Contact(
            label=f"{volunteer.name} (volunteer)", url=reverse("volunteers:volunteer-detail", args=[volunteer.pk])
        )
    return found


def sms_consent_by_number(numbers: set[str]) -> dict[str, ConsentDecision]:
    """messaging's consent check for campaign texts to volunteers (asks to cover a shift): one query.

    Their sign-up wording (services.CONSENT_WORDING) covers those asks; shift texts are transactional.
    """
    found: dict[str, ConsentDecision] = {}
    rows = (
        VolunteerConsent.objects.filter(volunteer__mobile__in=numbers)
        .order_by("-given_at", "-pk")
        .values_list("volunteer__mobile", "given_at", "withdrawn_at", "source")
    )
    for mobile, given_at, withdrawn_at, source in rows:
        if mobile in found:  # the newest consent decides (at most one is live)
            continue
        if withdrawn_at is None:
            found[mobile] = ConsentDecision(True, f"volunteer's consent given {_day(given_at)} ({source})")
        else:
            found[mobile] = ConsentDecision(False, f"consent withdrawn on {_day(withdrawn_at)}")
    return found


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y")


def masked_mobile(volunteer) -> str:
    return masked(volunteer.mobile)


def rota_gaps_alert(*, conference, now=None, hours: int = 24) -> dict | None:
    """For the dashboard: shifts in the next `hours` short of their minimum (one query), or None."""
    from django.db.models import Count, F, Q

    now = now or timezone.now()
    short = (
        Shift.objects.filter(
            conference=conference, cancelled=False, starts_at__gt=now, starts_at__lte=now + dt.timedelta(hours=hours)
        )
        .annotate(held=Count("signups", filter=Q(signups__status__in=("confirmed", "offered", "attended"))))
        .filter(held__lt=F("minimum"))
        .count()
    )
    if not short:
        return None
    return {
        "level": "warning",
        "text": f"{short} volunteer shift{'s' if short != 1 else ''} in the next {hours} hours "
        f"{'are' if short != 1 else 'is'} short of the minimum: see the rota.",
        "url": reverse("volunteers:rota"),
    }


# --- Subject access (privacy composes these; each returns (title, queryset) pairs) ----------------------------
def volunteers_matching(*, mobile: str = "", email: str = ""):
    """Volunteer records with this E.164 mobile or this email (case-insensitive)."""
    query = Q(pk__in=[])
    if mobile:
        query |= Q(mobile=mobile)
    if email:
        query |= Q(email__iexact=email)
    return Volunteer.objects.filter(query).order_by("pk")


def personal_data_of_volunteer(volunteer) -> list[tuple[str, object]]:
    return [
        ("Volunteer record", Volunteer.objects.filter(pk=volunteer.pk)),
        ("Consent to texts", VolunteerConsent.objects.filter(volunteer=volunteer).order_by("given_at", "pk")),
        ("Sign-ups", Signup.objects.filter(volunteer=volunteer).order_by("shift__starts_at", "pk")),
        ("Sign-up history", SignupChange.objects.filter(signup__volunteer=volunteer).order_by("at", "pk")),
        ("Shifts they lead", Shift.objects.filter(lead=volunteer).order_by("starts_at", "pk")),
    ]
