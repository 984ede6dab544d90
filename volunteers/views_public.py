"""Public pages for volunteers: no account, no JavaScript needed, small enough for a failing venue network.

They never show another volunteer's name or number. A volunteer's own page is reached by a signed link.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from config.security import client_ip
from delegates.models import Conference
from messaging.phones import normalise_mobile
from volunteers import calendar, links, selectors, services
from volunteers.forms import RoleFilterForm, SignupForm
from volunteers.models import Role, Shift, Signup, SignupChange, Volunteer

logger = logging.getLogger(__name__)


def _current_conference():
    conference = Conference.current()
    if conference is None:
        raise Http404("No conference yet.")
    timezone.activate(conference.timezone)
    return conference


def shift_list(request):
    conference = _current_conference()
    form = RoleFilterForm(request.GET or None)
    shifts = selectors.public_shifts(conference)
    role = form.cleaned_data["role"] if form.is_valid() else ""
    if role:
        shifts = shifts.filter(role=role)
    return render(
        request,
        "volunteers/shift_list.html",
        {
            "conference": conference,
            "days": selectors.group_by_day(shifts, conference.timezone),
            "form": form,
            "role": role,
            "roles": Role.choices,
        },
    )


def _rate_limited(request, mobile: str | None) -> bool:
    """Per IP and per number, in the shared cache (Redis when configured): the form is open to the world."""
    # The client's address as config.security reads it (CLIENT_IP_HEADER behind our proxy), not the proxy's.
    limited = is_ratelimited(
        request,
        group="volunteers.signup.ip",
        key=lambda _g, r: client_ip(r),
        rate=settings.VOLUNTEER_SIGNUP_RATE_PER_IP,
        increment=True,
    )
    if mobile:
        # django-ratelimit hashes the key, so no number is written to the cache.
        limited |= is_ratelimited(
            request,
            group="volunteers.signup.number",
            key=lambda _g, _r: mobile,
            rate=settings.VOLUNTEER_SIGNUP_RATE_PER_NUMBER,
            increment=True,
        )
    return limited


def shift_signup(request, pk):
    conference = _current_conference()
    shift = get_object_or_404(
        Shift.objects.filter(conference=conference).select_related("location", "conference").with_counts(), pk=pk
    )
    status = 200
    if request.method == "POST":
        form = SignupForm(request.POST)
        try:
            mobile_guess = normalise_mobile(request.POST.get("mobile", ""))
        except ValidationError:
            mobile_guess = None
        # A retry of a sign-up that already went through is answered from the record, before any limit.
        token = request.POST.get("form_token", "")
        earlier = _earlier_signup(token)
        if earlier is not None:
            return _signed_up_redirect(request, earlier, repeated=True)
        if _rate_limited(request, mobile_guess):
            form.is_valid()
            form.add_error(None, "Too many sign-ups from here in the last hour. Please try again later.")
            logger.info("shift %s: public sign-up rate-limited", shift.pk)
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                volunteer = services.register_volunteer(
                    name=data["name"],
                    mobile=data["mobile"],
                    email=data["email"],
                    consent_wording=services.CONSENT_WORDING,
                    consent_source="public sign-up form",
                )
                result = services.sign_up(
                    shift=shift, volunteer=volunteer, source=SignupChange.Source.PUBLIC, form_token=data["form_token"]
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
                status = 400
            else:
                return _signed_up_redirect(request, result.signup, repeated=result.repeated)
        else:
            status = 400
    else:
        form = SignupForm()
    return render(
        request,
        "volunteers/shift_signup.html",
        {"conference": conference, "shift": shift, "form": form, "started": shift.has_started()},
        status=status,
    )


def _earlier_signup(token: str):
    try:
        import uuid

        return services.find_signup_by_form_token(uuid.UUID(token))
    except (ValueError, TypeError):
        return None


def _signed_up_redirect(request, signup: Signup, *, repeated: bool):
    if signup.status == Signup.Status.WAITLISTED:
        messages.info(request, "That shift is full: you're on the waitlist. We'll text you if a place frees up.")
    else:
        messages.success(request, "You're signed up. We've texted you this page's link: keep it to manage your shifts.")
    return redirect(reverse("volunteers:my-shifts", args=[links.my_shifts_token(signup.volunteer_id)]))


def _volunteer_from_token(token: str) -> Volunteer:
    volunteer_id = links.volunteer_id_from_token(token)
    volunteer = Volunteer.objects.filter(pk=volunteer_id).first() if volunteer_id else None
    if volunteer is None:
        raise Http404("This link is not valid any more.")
    return volunteer


def my_shifts(request, token):
    conference = _current_conference()
    volunteer = _volunteer_from_token(token)
    signups = list(selectors.volunteer_signups(volunteer))
    now = timezone.now()
    for signup in signups:
        signup.can_cancel = signup.status in (
            Signup.Status.CONFIRMED,
            Signup.Status.WAITLISTED,
            Signup.Status.OFFERED,
        ) and not services.cancellation_closed(signup.shift, now)
        signup.can_accept = signup.status == Signup.Status.OFFERED and (
            signup.offer_expires_at is None or signup.offer_expires_at > now
        )
        signup.is_past = signup.shift.ends_at <= now
        if signup.status == Signup.Status.WAITLISTED:
            signup.position = services.waitlist_position(signup)
    response = render(
        request,
        "volunteers/my_shifts.html",
        {
            "conference": conference,
            "volunteer": volunteer,
            "signups": signups,
            "token": token,
            "cutoff_minutes": settings.VOLUNTEER_CANCEL_CUTOFF_MINUTES,
        },
    )
    # The link is the key to this page: never sent to other sites ("no-referrer" would make browsers send
    # Origin: null on the page's own forms, which CSRF refuses).
    response["Referrer-Policy"] = "same-origin"
    return response


def _own_signup(token, signup_id) -> Signup:
    volunteer = _volunteer_from_token(token)
    return get_object_or_404(Signup.objects.select_related("shift"), pk=signup_id, volunteer=volunteer)


@require_POST
def my_shift_cancel(request, token, signup_id):
    signup = _own_signup(token, signup_id)
    try:
        services.cancel_signup(signup=signup, source=SignupChange.Source.PUBLIC, reason="cancelled on their page")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Cancelled. Thank you for letting us know.")
    return redirect(reverse("volunteers:my-shifts", args=[token]))


@require_POST
def my_shift_accept(request, token, signup_id):
    signup = _own_signup(token, signup_id)
    try:
        services.accept_offer(signup=signup, source=SignupChange.Source.PUBLIC)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "The place is yours. See you there!")
    return redirect(reverse("volunteers:my-shifts", args=[token]))


def my_shifts_ics(request, token):
    volunteer = _volunteer_from_token(token)
    body = calendar.volunteer_calendar(volunteer, selectors.volunteer_signups(volunteer))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-shifts.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


def cover(request, token):
    """The one-tap link in a "cover this shift" text: first to take the place gets it."""
    _current_conference()
    ids = links.ids_from_cover_token(token)
    if ids is None:
        raise Http404("This link is not valid any more.")
    volunteer = get_object_or_404(Volunteer, pk=ids[0])
    shift = get_object_or_404(Shift.objects.select_related("location", "conference").with_counts(), pk=ids[1])
    error = ""
    if request.method == "POST":
        try:
            result = services.sign_up(
                shift=shift, volunteer=volunteer, source=SignupChange.Source.PUBLIC, waitlist=False
            )
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            return _signed_up_redirect(request, result.signup, repeated=result.repeated)
    return render(request, "volunteers/cover.html", {"shift": shift, "error": error}, status=409 if error else 200)
