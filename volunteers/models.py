"""Volunteers, shifts and sign-ups. Every change of a sign-up's status goes through volunteers.services."""

import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import Count, F, Q
from django.utils import timezone

from delegates.models import Conference
from messaging.phones import normalise_mobile


class Role(models.TextChoices):
    LEAFLETING = "leafleting", "Leafleting"
    LOBBYING = "lobbying", "Lobbying delegates"
    STALL = "stall", "Staffing the stall"
    STEWARDING = "stewarding", "Stewarding the fringe"
    OTHER = "other", "Other"


class Location(models.Model):
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="shift_locations")
    name = models.CharField(max_length=120)
    directions = models.CharField(max_length=300, blank=True, help_text="How to find it; shown to volunteers.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["conference", "name"], name="location_unique_per_conference")]

    def __str__(self):
        return self.name


# A signup in one of these holds a place on the shift (an offer holds it until answered or expired).
HOLDS_PLACE = ("confirmed", "offered", "attended", "no_show")


class ShiftQuerySet(models.QuerySet):
    def with_counts(self):
        """Places taken and waiting, counted in the same query (one GROUP BY) as the shifts."""
        return self.annotate(
            taken=Count("signups", filter=Q(signups__status__in=HOLDS_PLACE)),
            waiting=Count("signups", filter=Q(signups__status="waitlisted")),
            offered_count=Count("signups", filter=Q(signups__status="offered")),
        )

    def upcoming(self, now=None):
        return self.filter(cancelled=False, starts_at__gt=now or timezone.now())

    def overlapping(self, starts_at, ends_at):
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class Shift(models.Model):
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="shifts")
    role = models.CharField(max_length=20, choices=Role.choices)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(help_text="Most volunteers wanted; further sign-ups join the waitlist.")
    minimum = models.PositiveSmallIntegerField(default=1, help_text="Below this the rota shows a gap.")
    lead = models.ForeignKey(
        "Volunteer", null=True, blank=True, on_delete=models.SET_NULL, related_name="leading", help_text="Shift lead."
    )
    notes = models.TextField(blank=True, help_text="Shown to volunteers: what to bring, where to meet.")
    cancelled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "role", "location__name"]
        indexes = [
            # The public list and the rota: a conference's shifts in time order.
            models.Index(fields=["conference", "starts_at"], name="shift_conference_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="shift_capacity_positive"),
            models.CheckConstraint(condition=Q(minimum__lte=F("capacity")), name="shift_minimum_within_capacity"),
        ]

    def __str__(self):
        local = self.local_start()
        return f"{self.get_role_display()} at {self.location.name}, {local:%a %d %b %H:%M}"

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.conference.timezone)

    def local_start(self):
        return timezone.localtime(self.starts_at, self.tz)

    def local_end(self):
        return timezone.localtime(self.ends_at, self.tz)

    def short_label(self) -> str:
        """For texts: 'Leafleting, ACC main entrance, Sun 28 Sep 08:00–10:00'."""
        start, end = self.local_start(), self.local_end()
        return f"{self.get_role_display()}, {self.location.name}, {start:%a %d %b %H:%M}–{end:%H:%M}"

    def places_left(self) -> int:
        """Needs the with_counts() annotation."""
        return max(self.capacity - self.taken, 0)

    def has_started(self, now=None) -> bool:
        return self.starts_at <= (now or timezone.now())


class Volunteer(models.Model):
    name = models.CharField(max_length=120)
    mobile = models.CharField(max_length=16, unique=True, help_text="E.164, e.g. +447700900123.")
    email = models.EmailField(blank=True)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_wording = models.TextField(blank=True, help_text="Exactly what the volunteer agreed to.")
    consent_source = models.CharField(max_length=40, blank=True, help_text="e.g. public sign-up form, coordinator")
    # "Cover this shift" asks are spaced out: nobody is asked again within VOLUNTEER_COVER_QUIET_HOURS.
    last_asked_to_cover_at = models.DateTimeField(null=True, blank=True)
    # Set when the person's data is erased (on request or by retention); their sign-ups stay as counts.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name or "(name erased)"  # the public form requires a name: blank means erased

    def save(self, *args, **kwargs):
        if not self.erased_at:  # an erased volunteer's mobile is a unique placeholder, not a number
            self.mobile = normalise_mobile(self.mobile)
        super().save(*args, **kwargs)


class SignupQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(status=Signup.Status.CANCELLED)

    def holding_place(self):
        return self.filter(status__in=HOLDS_PLACE)


class Signup(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        WAITLISTED = "waitlisted", "On the waitlist"
        OFFERED = "offered", "Offered a place"
        CANCELLED = "cancelled", "Cancelled"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="signups")
    status = models.CharField(max_length=12, choices=Status.choices)
    # Waitlist order: when the volunteer (last) joined it.
    queued_at = models.DateTimeField(default=timezone.now)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    reconfirmed_at = models.DateTimeField(null=True, blank=True, help_text="Replied Y to a reminder.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignupQuerySet.as_manager()

    class Meta:
        ordering = ["shift__starts_at", "queued_at"]
        constraints = [
            # One row per volunteer and shift: signing up again after cancelling reuses it (history keeps both).
            models.UniqueConstraint(fields=["shift", "volunteer"], name="signup_once_per_shift"),
        ]
        indexes = [
            # The waitlist: next in line for a shift; and the offer sweeper.
            models.Index(fields=["shift", "status", "queued_at"], name="signup_shift_status_queue"),
            models.Index(fields=["status", "offer_expires_at"], name="signup_status_offer_expiry"),
        ]

    def __str__(self):
        return f"Signup {self.pk} ({self.status})"


class SignupChange(models.Model):
    """Append-only history: every status change of a sign-up, who or what made it, and why."""

    class Source(models.TextChoices):
        PUBLIC = "public", "Public sign-up page"
        COORDINATOR = "coordinator", "Coordinator"
        SMS = "sms", "Text reply"
        SYSTEM = "system", "Automatic"
        API = "api", "API"

    signup = models.ForeignKey(Signup, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The public form's one-time token: a retried or double-tapped POST finds its first result here.
    form_token = models.UUIDField(null=True, blank=True, unique=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


class VolunteerConsent(models.Model):
    """PECR evidence: each time a volunteer agreed to texts, with the exact words shown, and its withdrawal.

    Append-only (volunteers.services writes it); at most one live consent per volunteer, older ones kept
    withdrawn. The Volunteer's consent_* fields mirror the live one for the pages and API that show it.
    """

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="consents")
    given_at = models.DateTimeField(default=timezone.now)
    wording = models.TextField(help_text="What the volunteer was shown and agreed to, word for word.")
    source = models.CharField(max_length=80, help_text="Where: the public sign-up form, a coordinator, the API.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = "volunteer consent"
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer"], condition=Q(withdrawn_at__isnull=True), name="one_live_volunteer_consent"
            ),
        ]

    def __str__(self):
        return f"Volunteer consent {'withdrawn' if self.withdrawn_at else 'given'} ({self.source})"
