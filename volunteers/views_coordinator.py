"""Coordinator pages: the rota with its gaps, one shift's people, assigning, check-in, cover asks, CSV export."""

import csv
import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from config import audit
from config.permissions import CoordinatorRequiredMixin
from delegates.models import Conference
from volunteers import selectors, services
from volunteers.forms import AssignForm, CopyDayForm, ShiftForm
from volunteers.models import Shift, Signup, SignupChange, Volunteer

Status = Signup.Status


class ConferenceMixin(CoordinatorRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        self.conference = Conference.current()
        if self.conference is None:
            raise Http404("No conference yet.")
        timezone.activate(self.conference.timezone)
        return super().dispatch(request, *args, **kwargs)

    def get_shift(self, pk):
        return get_object_or_404(
            Shift.objects.filter(conference=self.conference)
            .select_related("location", "conference", "lead")
            .with_counts(),
            pk=pk,
        )


def _chosen_day(request, days):
    raw = request.GET.get("day", "")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        today = timezone.localdate()
        upcoming = [d for d in days if d >= today]
        return upcoming[0] if upcoming else (days[0] if days else today)


def _apply_validation_error(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class RotaView(ConferenceMixin, View):
    def get(self, request):
        days = selectors.shift_days(self.conference)
        day = _chosen_day(request, days)
        shifts = list(selectors.rota(self.conference, day))
        for shift in shifts:
            shift.gap = not shift.cancelled and shift.taken < shift.minimum
            shift.short_by = max(shift.minimum - shift.taken, 0)
            shift.fill_percent = min(100, round(100 * shift.taken / shift.capacity))
            shift.minimum_percent = round(100 * shift.minimum / shift.capacity)
        live = [s for s in shifts if not s.cancelled]
        return render(
            request,
            "volunteers/rota.html",
            {
                "conference": self.conference,
                "days": days,
                "day": day,
                "shifts": shifts,
                "gaps": sum(1 for s in live if s.gap),
                "places": sum(s.capacity for s in live),
                "taken": sum(s.taken for s in live),
                "waiting": sum(s.waiting for s in live),
                "copy_form": CopyDayForm(),
            },
        )


class ShiftManageView(ConferenceMixin, View):
    def get(self, request, pk, assign_form=None, status=200):
        shift = self.get_shift(pk)
        signups = list(shift.signups.select_related("volunteer").order_by("status", "queued_at", "pk"))
        return render(
            request,
            "volunteers/shift_manage.html",
            {
                "conference": self.conference,
                "shift": shift,
                "holding": [s for s in signups if s.status in ("confirmed", "offered", "attended", "no_show")],
                "waiting": [s for s in signups if s.status == Status.WAITLISTED],
                "cancelled": [s for s in signups if s.status == Status.CANCELLED],
                "assign_form": assign_form or AssignForm(),
                "free_count": services.volunteers_free_for(shift).count(),
            },
            status=status,
        )


class AssignView(ShiftManageView):
    def post(self, request, pk):
        shift = self.get_shift(pk)
        form = AssignForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                volunteer = data["volunteer"] or services.register_volunteer(
                    name=data["name"],
                    mobile=data["mobile"],
                    consent_wording=services.CONSENT_WORDING,
                    consent_source=f"coordinator {request.user.pk} recorded it",
                    recorded_by=request.user,
                )
                services.sign_up(
                    shift=shift,
                    volunteer=volunteer,
                    source=SignupChange.Source.COORDINATOR,
                    by=request.user,
                    waitlist=False,
                )
            except ValidationError as exc:
                _apply_validation_error(form, exc)
            else:
                messages.success(request, f"{volunteer.name} is on this shift and has been texted.")
                return redirect("volunteers:shift-manage", pk=shift.pk)
        return self.get(request, pk, assign_form=form, status=400)


class AskToCoverView(ConferenceMixin, View):
    def post(self, request, pk):
        shift = self.get_shift(pk)
        try:
            count = services.ask_to_cover(shift=shift, by=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, f"Texted {count} free volunteers. The first to tap the link gets the place.")
        return redirect("volunteers:shift-manage", pk=shift.pk)


class SignupActionView(ConferenceMixin, View):
    """One button per sign-up: cancel, check in (attended / no-show), accept an offer on someone's behalf."""

    def post(self, request, signup_id, action):
        signup = get_object_or_404(
            Signup.objects.select_related("shift"), pk=signup_id, shift__conference=self.conference
        )
        try:
            if action == "cancel":
                services.cancel_signup(
                    signup=signup,
                    source=SignupChange.Source.COORDINATOR,
                    by=request.user,
                    reason="cancelled by a coordinator",
                    enforce_cutoff=False,
                )
            elif action in ("attended", "no_show"):
                services.record_attendance(signup=signup, attended=action == "attended", by=request.user)
            elif action == "accept":
                services.accept_offer(signup=signup, source=SignupChange.Source.COORDINATOR, by=request.user)
            else:
                raise Http404("Unknown action.")
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        back = request.POST.get("next", "")
        if back.startswith("/shifts/rota/"):
            return HttpResponseRedirect(back)
        return redirect("volunteers:shift-manage", pk=signup.shift_id)


class CheckInView(ConferenceMixin, View):
    def get(self, request, pk):
        shift = self.get_shift(pk)
        signups = (
            shift.signups.filter(status__in=(Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW))
            .select_related("volunteer")
            .order_by("volunteer__name")
        )
        return render(request, "volunteers/check_in.html", {"shift": shift, "signups": signups})


class ShiftFormMixin(ConferenceMixin):
    def render_form(self, request, form, shift=None, status=200):
        return render(request, "volunteers/shift_form.html", {"form": form, "shift": shift}, status=status)


class ShiftCreateView(ShiftFormMixin, View):
    def get(self, request):
        return self.render_form(request, ShiftForm(conference=self.conference))

    def post(self, request):
        form = ShiftForm(request.POST, conference=self.conference)
        if form.is_valid():
            try:
                shift = services.create_shift(conference=self.conference, **form.cleaned_data)
            except ValidationError as exc:
                _apply_validation_error(form, exc)
            else:
                messages.success(request, "Shift added.")
                return redirect("volunteers:shift-manage", pk=shift.pk)
        return self.render_form(request, form, status=400)


class ShiftUpdateView(ShiftFormMixin, View):
    def get(self, request, pk):
        shift = self.get_shift(pk)
        return self.render_form(request, ShiftForm(instance=shift, conference=self.conference), shift)

    def post(self, request, pk):
        shift = self.get_shift(pk)
        form = ShiftForm(request.POST, instance=Shift.objects.get(pk=shift.pk), conference=self.conference)
        if form.is_valid():
            try:
                services.update_shift(shift=shift, by=request.user, **{f: form.cleaned_data[f] for f in form.fields})
            except ValidationError as exc:
                _apply_validation_error(form, exc)
            else:
                messages.success(request, "Shift saved. If it moved, its volunteers have been texted.")
                return redirect("volunteers:shift-manage", pk=shift.pk)
        return self.render_form(request, form, shift, status=400)


class ShiftCancelView(ConferenceMixin, View):
    def post(self, request, pk):
        shift = self.get_shift(pk)
        services.cancel_shift(shift=shift, by=request.user)
        messages.success(request, "Shift cancelled; its volunteers have been texted.")
        return redirect(f"{reverse('volunteers:rota')}?day={shift.local_start().date().isoformat()}")


class CopyDayView(ConferenceMixin, View):
    def post(self, request):
        form = CopyDayForm(request.POST)
        try:
            from_day = dt.date.fromisoformat(request.POST.get("from_day", ""))
        except ValueError:
            from_day = None
        if form.is_valid() and from_day:
            try:
                created = services.copy_day(
                    conference=self.conference, from_day=from_day, to_day=form.cleaned_data["to_day"]
                )
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
            else:
                messages.success(request, f"Added {len(created)} shifts on {form.cleaned_data['to_day']:%A %d %B}.")
                return redirect(f"{reverse('volunteers:rota')}?day={form.cleaned_data['to_day'].isoformat()}")
        else:
            messages.error(request, "Choose a day to copy to.")
        return redirect(f"{reverse('volunteers:rota')}?day={from_day.isoformat() if from_day else ''}")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Spreadsheet apps run a cell starting = + - @ tab or CR as a formula: neutralise it with a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class RotaExportView(ConferenceMixin, View):
    def get(self, request):
        days = selectors.shift_days(self.conference)
        exported = 0  # rows naming a volunteer, for the access audit
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="rota.csv"'
        response.write("\ufeff")  # BOM: Excel then reads UTF-8
        writer = csv.writer(response)
        writer.writerow(
            [
                "day",
                "start",
                "end",
                "role",
                "location",
                "capacity",
                "minimum",
                "taken",
                "waitlist",
                "cancelled",
                "volunteer",
                "mobile",
                "status",
            ]
        )
        for day in days:
            for shift in selectors.rota(self.conference, day):
                base = [
                    day.isoformat(),
                    f"{shift.local_start():%H:%M}",
                    f"{shift.local_end():%H:%M}",
                    shift.get_role_display(),
                    shift.location.name,
                    shift.capacity,
                    shift.minimum,
                    shift.taken,
                    shift.waiting,
                    "yes" if shift.cancelled else "",
                ]
                rows = shift.live_signups or [None]
                for signup in rows:
                    person = [signup.volunteer.name, signup.volunteer.mobile, signup.status] if signup else ["", "", ""]
                    writer.writerow([safe_cell(v) for v in base + person])
                    exported += bool(signup)
        audit.record_access(
            action=audit.EXPORT, what="volunteer rota CSV export", count=exported, actor=request.user,
            detail={"conference": self.conference.pk, "days": len(days)},
        )  # fmt: skip
        return response


class VolunteerDetailView(ConferenceMixin, View):
    def get(self, request, pk):
        volunteer = get_object_or_404(Volunteer, pk=pk)
        signups = selectors.volunteer_signups(volunteer).prefetch_related("changes")
        return render(request, "volunteers/volunteer_detail.html", {"volunteer": volunteer, "signups": signups})
