"""Every change to volunteers, shifts and sign-ups: one function each, one transaction, a history row.

Capacity holds under concurrency because sign-up, cancellation, offer acceptance and the waitlist all lock
the shift row (SELECT … FOR UPDATE) before counting its places; a volunteer's row is locked first (always
volunteer → shift) so one person cannot slip into two overlapping shifts from two phones at once.
Texts go through messaging.send_sms inside the same transaction: written with the change, queued on commit.
"""

import datetime as dt
import logging
import uuid
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.phones import normalise_mobile
from messaging.services import relink_opt_outs, send_sms
from volunteers import texts
from volunteers.models import HOLDS_PLACE, Location, Shift, Signup, SignupChange, Volunteer, VolunteerConsent
from volunteers.reminders import due_rung

logger = logging.getLogger(__name__)
Status = Signup.Status
Source = SignupChange.Source

PURPOSE_CONFIRMATION = "volunteer_signup"
PURPOSE_OFFER = "volunteer_offer"
PURPOSE_REMINDER = "volunteer_reminder"
PURPOSE_SHIFT_CHANGE = "volunteer_shift_change"
PURPOSE_COVER = "volunteer_cover"

CONSENT_WORDING = (
    "I agree that the campaign may text me about my volunteer shifts: a confirmation, reminders, offers of a place "
    "from the waitlist, changes to my shifts, and occasional requests to cover a shift. I can reply STOP at any time."
)


# --- Volunteers -----------------------------------------------------------------------------------


def register_volunteer(
    *, name: str, mobile: str, email: str = "", consent_wording: str, consent_source: str, recorded_by=None
) -> Volunteer:
    """Find the volunteer by mobile or create them, recording the consent they have just given (with its words).

    The consent is evidence (VolunteerConsent): a new row when there is no live one or the words changed, the
    earlier one kept, withdrawn. ``recorded_by``: the coordinator who took it down, when it was not the form.
    """
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Enter your name."
    try:
        number = normalise_mobile(mobile)
    except ValidationError as exc:
        errors["mobile"] = exc.messages
    if not consent_wording:
        errors["consent"] = "Consent to texts is needed to sign up: we text the confirmation and reminders."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                volunteer, created = Volunteer.objects.get_or_create(
                    mobile=number,
                    defaults={
                        "name": name[:120],
                        "email": email,
                        "consent_given_at": now,
                        "consent_wording": consent_wording,
                        "consent_source": consent_source,
                    },
                )
        except IntegrityError:  # the same number registering from two phones at once
            volunteer, created = Volunteer.objects.get(mobile=number), False
        volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)  # one live consent, even in a race
        # An erased person's opt-out gets this number back, committed with the record that holds it again.
        relink_opt_outs(numbers=[number], via="volunteer sign-up")
        if not created:
            # Someone else may type this number: never rename a volunteer from the public form.
            Volunteer.objects.filter(pk=volunteer.pk).update(
                consent_given_at=now, consent_wording=consent_wording, consent_source=consent_source[:40]
            )
            if email and not volunteer.email:
                Volunteer.objects.filter(pk=volunteer.pk).update(email=email)
        live = VolunteerConsent.objects.filter(volunteer=volunteer, withdrawn_at__isnull=True).first()
        if live is None or live.wording != consent_wording:
            if live is not None:
                VolunteerConsent.objects.filter(pk=live.pk).update(
                    withdrawn_at=now, withdrawal_reason="Replaced by a newer consent"
                )
            VolunteerConsent.objects.create(
                volunteer=volunteer,
                given_at=now,
                wording=consent_wording,
                source=consent_source[:80],
                recorded_by=recorded_by,
            )
    volunteer.refresh_from_db()
    return volunteer


def withdraw_volunteer_consent(*, volunteer: Volunteer, reason: str) -> bool:
    """The volunteer no longer wants campaign texts (asks to cover): their consent is withdrawn, kept as evidence.

    Texts about shifts they signed up for are service messages and continue; a STOP stops every text (the
    messaging opt-out list). Returns whether a live consent was withdrawn.
    """
    now = timezone.now()
    with transaction.atomic():
        withdrawn = VolunteerConsent.objects.filter(volunteer=volunteer, withdrawn_at__isnull=True).update(
            withdrawn_at=now, withdrawal_reason=(reason or "withdrawn")[:200]
        )
        Volunteer.objects.filter(pk=volunteer.pk).update(consent_given_at=None)
    return bool(withdrawn)


# --- Sign-up --------------------------------------------------------------------------------------


def _record(signup, *, from_status, to_status, reason, source, by=None, form_token=None, at=None):
    return SignupChange.objects.create(
        signup=signup,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:200],
        source=source,
        by=by,
        form_token=form_token,
        at=at or timezone.now(),
    )


def _set_status(signup: Signup, to_status: str, *, reason: str, source: str, by=None, form_token=None, **fields):
    from_status = signup.status
    signup.status = to_status
    for name, value in fields.items():
        setattr(signup, name, value)
    signup.save()
    _record(
        signup, from_status=from_status, to_status=to_status, reason=reason, source=source, by=by, form_token=form_token
    )
    return signup


def _locked_shift(shift_id: int) -> Shift:
    return Shift.objects.select_for_update(of=("self",)).select_related("conference", "location").get(pk=shift_id)


def _places_taken(shift: Shift) -> int:
    return shift.signups.filter(status__in=HOLDS_PLACE).count()


def clashing_signups(*, volunteer_id: int, shift: Shift):
    """The volunteer's sign-ups that hold a place on another shift overlapping this one."""
    return (
        Signup.objects.filter(volunteer_id=volunteer_id, status__in=HOLDS_PLACE, shift__cancelled=False)
        .exclude(shift_id=shift.pk)
        .filter(shift__starts_at__lt=shift.ends_at, shift__ends_at__gt=shift.starts_at)
        .select_related("shift__location", "shift__conference")
    )


def find_signup_by_form_token(form_token) -> Signup | None:
    change = SignupChange.objects.filter(form_token=form_token).select_related("signup").first()
    return change.signup if change else None


@dataclass
class SignupResult:
    signup: Signup
    repeated: bool = False  # the same form token was seen before: nothing new happened


def sign_up(
    *,
    shift: Shift,
    volunteer: Volunteer,
    source: str,
    by=None,
    form_token: uuid.UUID | None = None,
    waitlist: bool = True,
    now: dt.datetime | None = None,
) -> SignupResult:
    """Sign a volunteer up: confirmed if a place is free, else on the waitlist (or refused, with waitlist=False).

    Refuses a cancelled or started shift, a clash with another of the volunteer's shifts, and a second sign-up to
    the same shift. A form token seen before returns the first result: a double tap or a retried POST signs up once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()  # serialises this person's sign-ups
        shift = _locked_shift(shift.pk)
        if form_token is not None:
            earlier = find_signup_by_form_token(form_token)
            if earlier is not None:
                return SignupResult(earlier, repeated=True)
        if shift.cancelled:
            raise ValidationError("This shift has been cancelled.", code="cancelled")
        if shift.has_started(now):
            raise ValidationError("This shift has already started.", code="started")
        signup = Signup.objects.filter(shift=shift, volunteer=volunteer).first()
        if signup is not None and signup.status != Status.CANCELLED:
            where = "on the waitlist for" if signup.status == Status.WAITLISTED else "signed up to"
            raise ValidationError(f"You are already {where} this shift.", code="duplicate")
        clash = clashing_signups(volunteer_id=volunteer.pk, shift=shift).first()
        if clash is not None:
            raise ValidationError(f"This overlaps another of your shifts: {clash.shift.short_label()}.", code="clash")
        full = _places_taken(shift) >= shift.capacity
        if full and not waitlist:
            raise ValidationError("Sorry, this shift is full.", code="full")
        to_status = Status.WAITLISTED if full else Status.CONFIRMED
        reason = "shift full: joined the waitlist" if full else "signed up"
        if signup is None:
            try:
                with transaction.atomic():
                    signup = Signup.objects.create(shift=shift, volunteer=volunteer, status="", queued_at=now)
            except IntegrityError:  # cannot happen while the volunteer row is locked; refuse rather than 500
                raise ValidationError("You are already signed up to this shift.", code="duplicate") from None
        _set_status(
            signup,
            to_status,
            reason=reason,
            source=source,
            by=by,
            form_token=form_token,
            queued_at=now,
            offer_expires_at=None,
            reconfirmed_at=None,
        )
        send_sms(
            to=volunteer.mobile,
            body=texts.waitlisted(shift, signup) if full else texts.confirmed(shift, volunteer),
            key=f"volunteers:signup:{signup.pk}:{signup.changes.count()}",
            purpose=PURPOSE_CONFIRMATION,
            marketing=False,
        )
    return SignupResult(signup)


def waitlist_position(signup: Signup) -> int:
    return (
        Signup.objects.filter(shift_id=signup.shift_id, status=Status.WAITLISTED, queued_at__lte=signup.queued_at)
        .exclude(pk=signup.pk)
        .count()
        + 1
    )


def cancellation_closed(shift: Shift, now=None) -> bool:
    """Volunteers may cancel themselves until VOLUNTEER_CANCEL_CUTOFF_MINUTES before the start."""
    cutoff = shift.starts_at - dt.timedelta(minutes=settings.VOLUNTEER_CANCEL_CUTOFF_MINUTES)
    return (now or timezone.now()) >= cutoff


def cancel_signup(
    *, signup: Signup, source: str, by=None, reason: str = "cancelled", enforce_cutoff: bool = True, now=None
) -> Signup:
    """Cancel a sign-up; a place it held goes to the next on the waitlist."""
    now = now or timezone.now()
    with transaction.atomic():
        shift = _locked_shift(signup.shift_id)
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        if signup.status not in (Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED):
            raise ValidationError(f"This sign-up cannot be cancelled: it is {signup.get_status_display().lower()}.")
        if enforce_cutoff and cancellation_closed(shift, now):
            raise ValidationError(
                "It is too close to the start to cancel here: please tell the shift lead or a coordinator."
            )
        held_place = signup.status in HOLDS_PLACE
        _set_status(signup, Status.CANCELLED, reason=reason, source=source, by=by, offer_expires_at=None)
        if held_place:
            _offer_free_places(shift, now=now)
    return signup


def _offer_free_places(shift: Shift, *, now) -> list[Signup]:
    """With the shift row locked: offer each free place to the next on the waitlist, one live offer per place."""
    if shift.cancelled or shift.has_started(now):
        return []
    offered = []
    free = shift.capacity - _places_taken(shift)
    expires = now + dt.timedelta(minutes=settings.VOLUNTEER_OFFER_MINUTES)
    while free > 0:
        candidate = (
            Signup.objects.select_for_update()
            .filter(shift=shift, status=Status.WAITLISTED)
            .select_related("volunteer")
            .order_by("queued_at", "id")
            .first()
        )
        if candidate is None:
            break
        if clashing_signups(volunteer_id=candidate.volunteer_id, shift=shift).exists():
            _set_status(
                candidate, Status.CANCELLED, reason="left the waitlist: now busy at that time", source=Source.SYSTEM
            )
            continue
        _set_status(
            candidate, Status.OFFERED, reason="a place freed up", source=Source.SYSTEM, offer_expires_at=expires
        )
        send_sms(
            to=candidate.volunteer.mobile,
            body=texts.offer(shift),
            key=f"volunteers:offer:{candidate.pk}:{candidate.changes.count()}",
            purpose=PURPOSE_OFFER,
            marketing=False,
            useless_after=expires,
        )
        offered.append(candidate)
        free -= 1
    return offered


def accept_offer(*, signup: Signup, source: str, by=None, now=None) -> Signup:
    now = now or timezone.now()
    with transaction.atomic():
        shift = _locked_shift(signup.shift_id)
        signup = Signup.objects.select_for_update().select_related("volunteer").get(pk=signup.pk)
        if signup.status != Status.OFFERED:
            raise ValidationError("There is no open offer for this shift.", code="no_offer")
        if signup.offer_expires_at and signup.offer_expires_at <= now:
            raise ValidationError("This offer has expired.", code="expired")
        _set_status(signup, Status.CONFIRMED, reason="accepted the offer", source=source, by=by, offer_expires_at=None)
        send_sms(
            to=signup.volunteer.mobile,
            body=texts.confirmed(shift, signup.volunteer),
            key=f"volunteers:signup:{signup.pk}:{signup.changes.count()}",
            purpose=PURPOSE_CONFIRMATION,
            marketing=False,
        )
    return signup


def decline_offer(*, signup: Signup, source: str, by=None, reason: str = "declined the offer", now=None) -> Signup:
    now = now or timezone.now()
    with transaction.atomic():
        shift = _locked_shift(signup.shift_id)
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        if signup.status != Status.OFFERED:
            raise ValidationError("There is no open offer for this shift.", code="no_offer")
        _set_status(signup, Status.CANCELLED, reason=reason, source=source, by=by, offer_expires_at=None)
        _offer_free_places(shift, now=now)
    return signup


def expire_offers(*, now=None) -> int:
    """Offers not answered in time pass to the next on the waitlist. Run by beat every minute."""
    now = now or timezone.now()
    expired = 0
    for signup_id, shift_id in Signup.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now).values_list(
        "id", "shift_id"
    ):
        with transaction.atomic():
            shift = _locked_shift(shift_id)
            signup = Signup.objects.select_for_update().get(pk=signup_id)
            if signup.status != Status.OFFERED or signup.offer_expires_at > now:
                continue  # answered meanwhile
            _set_status(signup, Status.CANCELLED, reason="offer expired", source=Source.SYSTEM, offer_expires_at=None)
            _offer_free_places(shift, now=now)
            expired += 1
    return expired


def reconfirm(*, signup: Signup, source: str, now=None) -> Signup:
    """Y to a reminder: the volunteer is coming. Status stays confirmed; the history records the reply."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        if signup.status != Status.CONFIRMED:
            raise ValidationError("Only a confirmed sign-up can be reconfirmed.")
        _set_status(signup, Status.CONFIRMED, reason="replied Y to a reminder", source=source, reconfirmed_at=now)
    return signup


def record_attendance(*, signup: Signup, attended: bool, by) -> Signup:
    with transaction.atomic():
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        if signup.status not in (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW):
            raise ValidationError("Only confirmed volunteers can be checked in.")
        to_status = Status.ATTENDED if attended else Status.NO_SHOW
        if signup.status != to_status:
            _set_status(
                signup, to_status, reason="checked in" if attended else "did not come", source=Source.COORDINATOR, by=by
            )
    return signup


# --- Replies by text ------------------------------------------------------------------------------

YES_WORDS = {"Y", "YES", "YEP", "YEAH", "OK", "OKAY"}
NO_WORDS = {"X", "N", "NO", "NOPE"}


def handle_reply(inbound) -> bool:
    """Y / X in reply to an offer or a reminder (messaging hands us replies to our purposes)."""
    message = inbound.in_reply_to
    if message is None:
        return False
    parts = message.idempotency_key.split(":")
    if len(parts) < 3 or parts[0] != "volunteers" or not parts[2].isdigit():
        return False
    word = (inbound.body or "").strip().split()[0].strip(".!,").upper() if (inbound.body or "").strip() else ""
    signup = Signup.objects.filter(pk=int(parts[2])).select_related("shift", "volunteer").first()
    if signup is None or signup.volunteer.mobile != inbound.from_number:
        return False
    try:
        if parts[1] == "offer" and word in YES_WORDS:
            accept_offer(signup=signup, source=Source.SMS)
        elif parts[1] == "offer" and word in NO_WORDS:
            decline_offer(signup=signup, source=Source.SMS)
        elif parts[1] == "reminder" and word in YES_WORDS:
            reconfirm(signup=signup, source=Source.SMS)
        elif parts[1] == "reminder" and word in NO_WORDS:
            cancel_signup(signup=signup, source=Source.SMS, reason="replied X to a reminder", enforce_cutoff=False)
        else:
            return False
    except ValidationError as exc:
        send_sms(
            to=signup.volunteer.mobile,
            body=texts.reply_refused(signup.shift, exc.messages[0]),
            key=f"volunteers:reply-refused:{inbound.pk}",
            purpose=PURPOSE_CONFIRMATION,
            marketing=False,
        )
    return True


# --- Reminders ------------------------------------------------------------------------------------


def send_due_reminders(*, now=None) -> int:
    """Text each confirmed volunteer the rung of the ladder now due. The key (signup + rung) makes it once only."""
    from messaging.models import OutboundMessage

    now = now or timezone.now()
    rungs = settings.VOLUNTEER_REMINDER_LADDER
    if not rungs:
        return 0
    horizon = now + dt.timedelta(days=2)  # the evening-before rung is at most ~30 hours ahead of a shift
    candidates = list(
        Signup.objects.filter(
            status=Status.CONFIRMED, shift__cancelled=False, shift__starts_at__gt=now, shift__starts_at__lte=horizon
        ).select_related("shift__conference", "shift__location", "volunteer")
    )
    due = []
    for signup in candidates:
        shift = signup.shift
        local_now = timezone.localtime(now, shift.tz)
        rung = due_rung(rungs, local_start=shift.local_start(), now=local_now, since=signup.queued_at)
        if rung is not None:
            due.append((signup, rung, f"volunteers:reminder:{signup.pk}:{rung.name}"))
    already = set(
        OutboundMessage.objects.filter(idempotency_key__in=[key for *_, key in due]).values_list(
            "idempotency_key", flat=True
        )
    )
    sent = 0
    for signup, _rung, key in due:
        if key in already:
            continue
        with transaction.atomic():
            current = Signup.objects.select_for_update().filter(pk=signup.pk, status=Status.CONFIRMED).first()
            if current is None:
                continue
            send_sms(
                to=signup.volunteer.mobile,
                body=texts.reminder(signup.shift),
                key=key,
                purpose=PURPOSE_REMINDER,
                marketing=False,
                useless_after=signup.shift.starts_at,
            )
            sent += 1
    return sent


# --- Shifts ---------------------------------------------------------------------------------------


def _validate_shift_fields(*, conference, starts_at, ends_at, capacity, minimum, location):
    errors = {}
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "A shift must end after it starts."
    if capacity is not None and capacity < 1:
        errors["capacity"] = "A shift needs at least one place."
    if minimum is not None and capacity is not None and minimum > capacity:
        errors["minimum"] = "The minimum cannot be more than the capacity."
    if location is not None and location.conference_id != conference.pk:
        errors["location"] = "That location belongs to another conference."
    if errors:
        raise ValidationError(errors)


def create_shift(*, conference, role, location, starts_at, ends_at, capacity, minimum=1, lead=None, notes="") -> Shift:
    _validate_shift_fields(
        conference=conference,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        minimum=minimum,
        location=location,
    )
    with transaction.atomic():
        return Shift.objects.create(
            conference=conference,
            role=role,
            location=location,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            minimum=minimum,
            lead=lead,
            notes=notes,
        )


SHIFT_EDITABLE = ("role", "location", "starts_at", "ends_at", "capacity", "minimum", "lead", "notes")


def update_shift(*, shift: Shift, by=None, now=None, **changes) -> Shift:
    """Change a shift. Moving it (time or place) texts everyone on it; more capacity offers the new places."""
    now = now or timezone.now()
    unknown = set(changes) - set(SHIFT_EDITABLE)
    if unknown:
        raise TypeError(f"update_shift cannot change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        shift = _locked_shift(shift.pk)
        if shift.cancelled:
            raise ValidationError("A cancelled shift cannot be changed.")
        before = (shift.starts_at, shift.ends_at, shift.location_id)
        for name, value in changes.items():
            setattr(shift, name, value)
        _validate_shift_fields(
            conference=shift.conference,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            capacity=shift.capacity,
            minimum=shift.minimum,
            location=shift.location,
        )
        taken = _places_taken(shift)
        if shift.capacity < taken:
            raise ValidationError(
                {"capacity": f"{taken} volunteers already hold places: cancel some before lowering the capacity."}
            )
        shift.save()
        moved = before != (shift.starts_at, shift.ends_at, shift.location_id)
        if moved:
            stamp = int(now.timestamp())
            for signup in (
                shift.signups.active().filter(status__in=(*HOLDS_PLACE, Status.WAITLISTED)).select_related("volunteer")
            ):
                if signup.status in (Status.ATTENDED, Status.NO_SHOW):
                    continue
                send_sms(
                    to=signup.volunteer.mobile,
                    body=texts.shift_moved(shift, signup.volunteer),
                    key=f"volunteers:moved:{signup.pk}:{stamp}",
                    purpose=PURPOSE_SHIFT_CHANGE,
                    marketing=False,
                )
        _offer_free_places(shift, now=now)
    return shift


def cancel_shift(*, shift: Shift, by=None) -> Shift:
    """Cancel a shift: every live sign-up is cancelled (with history) and its volunteer texted."""
    with transaction.atomic():
        shift = _locked_shift(shift.pk)
        if shift.cancelled:
            return shift
        shift.cancelled = True
        shift.save(update_fields=["cancelled", "updated_at"])
        for signup in shift.signups.filter(
            status__in=(Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED)
        ).select_related("volunteer"):
            _set_status(
                signup,
                Status.CANCELLED,
                reason="shift cancelled",
                source=Source.COORDINATOR,
                by=by,
                offer_expires_at=None,
            )
            send_sms(
                to=signup.volunteer.mobile,
                body=texts.shift_cancelled(shift, signup.volunteer),
                key=f"volunteers:shift-cancelled:{signup.pk}",
                purpose=PURPOSE_SHIFT_CHANGE,
                marketing=False,
            )
    return shift


@dataclass(frozen=True)
class ShiftPattern:
    """One line of a day's template: a role at a place from a local time to a local time."""

    role: str
    location: Location
    start: dt.time
    end: dt.time
    capacity: int
    minimum: int = 1
    notes: str = ""


def create_day_of_shifts(*, conference, day: dt.date, patterns: list[ShiftPattern]) -> list[Shift]:
    """A day's shifts from a template, with times in the conference's zone (all or nothing)."""
    tz = zoneinfo.ZoneInfo(conference.timezone)
    created = []
    with transaction.atomic():
        for pattern in patterns:
            starts_at = dt.datetime.combine(day, pattern.start, tzinfo=tz)
            end_day = day if pattern.end > pattern.start else day + dt.timedelta(days=1)  # past midnight
            ends_at = dt.datetime.combine(end_day, pattern.end, tzinfo=tz)
            created.append(
                create_shift(
                    conference=conference,
                    role=pattern.role,
                    location=pattern.location,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    capacity=pattern.capacity,
                    minimum=pattern.minimum,
                    notes=pattern.notes,
                )
            )
    return created


def day_patterns(*, conference, day: dt.date) -> list[ShiftPattern]:
    """An existing day's (uncancelled) shifts as a template for another day."""
    tz = zoneinfo.ZoneInfo(conference.timezone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    shifts = Shift.objects.filter(
        conference=conference, cancelled=False, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1)
    ).select_related("location")
    return [
        ShiftPattern(
            role=s.role,
            location=s.location,
            start=s.local_start().time(),
            end=s.local_end().time(),
            capacity=s.capacity,
            minimum=s.minimum,
            notes=s.notes,
        )
        for s in shifts
    ]


def copy_day(*, conference, from_day: dt.date, to_day: dt.date) -> list[Shift]:
    patterns = day_patterns(conference=conference, day=from_day)
    if not patterns:
        raise ValidationError({"from_day": "There are no shifts on that day to copy."})
    return create_day_of_shifts(conference=conference, day=to_day, patterns=patterns)


# --- Cover this shift now -------------------------------------------------------------------------


def volunteers_free_for(shift: Shift, *, now=None):
    """Volunteers who consented, are not on an overlapping shift, and were not asked to cover recently."""
    now = now or timezone.now()
    quiet_since = now - dt.timedelta(hours=settings.VOLUNTEER_COVER_QUIET_HOURS)
    busy = Signup.objects.filter(
        status__in=(*HOLDS_PLACE, Status.WAITLISTED),
        shift__cancelled=False,
        shift__starts_at__lt=shift.ends_at,
        shift__ends_at__gt=shift.starts_at,
    ).values("volunteer_id")
    return (
        Volunteer.objects.filter(consent_given_at__isnull=False, erased_at__isnull=True)
        .exclude(pk__in=busy)
        .exclude(last_asked_to_cover_at__gte=quiet_since)
        .order_by("last_asked_to_cover_at", "id")
    )


def ask_to_cover(*, shift: Shift, by=None, limit: int = 40, now=None) -> int:
    """Text free volunteers a one-tap link to take a place on this shift; the first to tap gets it."""
    now = now or timezone.now()
    with transaction.atomic():
        shift = _locked_shift(shift.pk)
        if shift.cancelled or shift.has_started(now):
            raise ValidationError("This shift has started or been cancelled.")
        if _places_taken(shift) >= shift.capacity:
            raise ValidationError("This shift is already full.")
        chosen = list(volunteers_free_for(shift, now=now).select_for_update(skip_locked=True)[:limit])
        Volunteer.objects.filter(pk__in=[v.pk for v in chosen]).update(last_asked_to_cover_at=now)
        stamp = int(now.timestamp())
        for volunteer in chosen:
            send_sms(
                to=volunteer.mobile,
                body=texts.cover(shift, volunteer),
                key=f"volunteers:cover:{shift.pk}:{volunteer.pk}:{stamp}",
                purpose=PURPOSE_COVER,
                marketing=True,  # an ask, not about a shift they signed up for: PECR's name and STOP apply
                useless_after=shift.starts_at,
            )
    logger.info("shift %s: asked %s volunteers to cover", shift.pk, len(chosen))
    return len(chosen)


# --- Erasure (data protection) --------------------------------------------------------------------------------------


def erased_mobile(volunteer_id: int) -> str:
    """The unique placeholder an erased volunteer's mobile becomes (the column is unique and required)."""
    return f"erased-{volunteer_id}"


def erase_volunteers(*, volunteer_ids, now=None) -> dict[str, int]:
    """Anonymise volunteers: name, mobile (a unique placeholder) and email go; consent time and source stay.

    Their sign-ups stay, so past shifts keep their counts; places they still hold or wait for on shifts that
    have not started are cancelled ("erased"), which offers a held place to the next on the waitlist, so
    nobody is reminded or asked to cover through an erased record. Already erased volunteers are left alone.
    Returns counts only.
    """
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Volunteer.objects.select_for_update()
            .filter(pk__in=list(volunteer_ids), erased_at__isnull=True)
            .values_list("pk", flat=True)
        )
        upcoming = Signup.objects.filter(
            volunteer_id__in=ids,
            status__in=(Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED),
            shift__starts_at__gt=now,
        ).order_by("shift_id", "pk")
        cancelled = 0
        for signup in upcoming:
            cancel_signup(signup=signup, source=Source.SYSTEM, reason="erased", enforce_cutoff=False, now=now)
            cancelled += 1
        # The same placeholder as erased_mobile(), set-based.
        placeholder = Concat(Value("erased-"), Cast("pk", output_field=CharField()))
        Volunteer.objects.filter(pk__in=ids).update(name="", mobile=placeholder, email="", erased_at=now)
    return {"volunteers": len(ids), "signups_cancelled": cancelled}
