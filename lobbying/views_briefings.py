"""Coordinator pages for briefings: list, compose, preview and send, live progress and the report.

Thin: reads in `lobbying.selectors` and `lobbying.briefings` (preview), writes through `lobbying.briefings`.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import ListView, View

from config.permissions import CoordinatorRequiredMixin
from delegates.models import Conference, Section
from delegates.views import FriendlyPaginationMixin
from lobbying import briefings, selectors
from lobbying.forms import SCHEDULE_FIELDS, BriefingForm, ScheduleForm, apply_errors, apply_schedule_errors
from lobbying.models import LEVEL_LABELS, Briefing, CoordinatorProfile
from messaging import text as sms_text

REPORT_PAGE_SIZE = 25
# Statuses whose texts may still be moving: the page polls the progress fragment while one of these holds.
LIVE_STATUSES = (Briefing.Status.SENDING, Briefing.Status.PAUSED)


class CurrentConferenceMixin:
    @cached_property
    def conference(self):
        return Conference.current()


class BriefingListView(CoordinatorRequiredMixin, CurrentConferenceMixin, FriendlyPaginationMixin, ListView):
    template_name = "lobbying/briefing_list.html"
    paginate_by = 25

    def get_queryset(self):
        if not self.conference:
            return Briefing.objects.none()
        return Briefing.objects.filter(conference=self.conference).select_related("motion", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # One query for the counts of every briefing on the page (grouped by briefing and outbox status).
        context["rows"] = selectors.briefings_with_progress(context["page_obj"].object_list)
        context["conference"] = self.conference
        return context


class BriefingCreateView(CoordinatorRequiredMixin, CurrentConferenceMixin, View):
    template_name = "lobbying/briefing_form.html"

    def dispatch(self, request, *args, **kwargs):
        if self.conference is None:
            raise Http404("No conference yet")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        initial = {}
        motion = request.GET.get("motion")
        if motion and motion.isdigit():
            initial["motion"] = motion
        return self.render(BriefingForm(initial=initial, conference=self.conference))

    def post(self, request):
        form = BriefingForm(request.POST, conference=self.conference)
        if form.is_valid():
            try:
                briefing = self.compose(form)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                if briefing.status == Briefing.Status.SCHEDULED:
                    messages.success(request, f"Scheduled for {_local(briefing.due_at)}. Check the preview.")
                else:
                    messages.success(request, "Draft saved. Check the preview, then send.")
                return redirect("lobbying:briefing-detail", pk=briefing.pk)
        return self.render(form, status=400)

    @transaction.atomic
    def compose(self, form):
        """compose_briefing, then schedule_briefing when a time was given: all or nothing. Refused (nothing saved)
        when nobody in the audience can be texted right now."""
        user = self.request.user
        briefing = briefings.compose_briefing(conference=self.conference, created_by=user, **form.audience_data())
        if not briefings.audience(briefing).exists():
            raise ValidationError(
                {
                    "audience": "No delegate matches this audience with consent to texts and not opted out: "
                    "widen the filters."
                }
            )
        if form.timing:
            try:
                briefing = briefings.schedule_briefing(briefing=briefing, by=user, **form.timing)
            except ValidationError as exc:
                raise ValidationError({SCHEDULE_FIELDS.get(k, k): v for k, v in exc.message_dict.items()}) from None
        return briefing

    def render(self, form, status=200):
        motions = {str(m.pk): str(m) for m in form.fields["motion"].queryset}
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "conference": self.conference,
                "merge_fields": briefings.MERGE_FIELDS,
                "max_segments": briefings.MAX_BRIEFING_SEGMENTS,
                "counter": {
                    # What static/js/briefings.js needs to count as the service does: long names filled in,
                    # the sender's name before and the STOP line after (messaging.text.compose).
                    "longest": {name: len(sample) for name, sample in briefings._LONGEST_SAMPLE.items()},
                    "motions": motions,
                    "max_segments": briefings.MAX_BRIEFING_SEGMENTS,
                    "sender": sms_text.clean(settings.SMS_SENDER_NAME),
                    "stop_line": sms_text.OPT_OUT_LINE,
                },
            },
            status=status,
        )


class BriefingMixin(CoordinatorRequiredMixin):
    def get_briefing(self, pk):
        return get_object_or_404(
            Briefing.objects.select_related(
                "conference", "motion", "created_by", "send_before_motion"
            ).prefetch_related("organisations"),
            pk=pk,
        )


def _report_context(request, briefing) -> dict:
    """The report's three lists, each paged on its own (?failed=2, ?skipped=3, ?replies=2), with who for each."""
    report = selectors.briefing_report(briefing=briefing)
    failures = Paginator(report.failures, REPORT_PAGE_SIZE).get_page(request.GET.get("failed"))
    skipped = Paginator(report.skipped, REPORT_PAGE_SIZE).get_page(request.GET.get("skipped"))
    replies = Paginator(report.replies.select_related("in_reply_to"), REPORT_PAGE_SIZE).get_page(
        request.GET.get("replies")
    )
    keys = [m.idempotency_key for m in [*failures, *skipped]] + [r.in_reply_to.idempotency_key for r in replies]
    people = selectors.people_for(keys, key=lambda key: key)
    return {
        "report": report,
        "failures": [
            {
                "message": m,
                "delegate": people.get(m.idempotency_key),
                "reason": selectors.explain_failure(m.error_code, m.error_message),
            }
            for m in failures
        ],
        "failures_page": failures,
        "skipped": [
            {
                "message": m,
                "delegate": people.get(m.idempotency_key),
                "reason": selectors.explain_skip(m.error_code, m.error_message),
            }
            for m in skipped
        ],
        "skipped_page": skipped,
        "replies": [{"reply": r, "delegate": people.get(r.in_reply_to.idempotency_key)} for r in replies],
        "replies_page": replies,
    }


def _audience_words(briefing) -> list[str]:
    """The audience filters in words, for the page's summary."""
    words = []
    if briefing.motion_id and briefing.stance_levels:
        levels = ", ".join(LEVEL_LABELS.get(level, level).lower() for level in briefing.stance_levels)
        words.append(f"{levels} on {briefing.motion}")
    if briefing.sections:
        sections = dict(Section.choices)
        words.append(" and ".join(sections.get(s, s) for s in briefing.sections))
    if briefing.regions:
        words.append(", ".join(briefing.regions))
    organisations = [o.name for o in briefing.organisations.all()]
    if organisations:
        words.append(", ".join(organisations))
    return words or ["every delegate"]


class BriefingDetailView(BriefingMixin, View):
    """Draft: the preview and the Send button. Sending or after: the live bar and the report."""

    template_name = "lobbying/briefing_detail.html"

    def get(self, request, pk):
        return self.render(self.get_briefing(pk))

    def render(self, briefing, *, send_error=None, schedule_form=None, status=200):
        Status = Briefing.Status
        context = {
            "briefing": briefing,
            "audience_words": _audience_words(briefing),
            "send_error": send_error,
            "live": briefing.status in LIVE_STATUSES,
            "can_schedule": briefing.status in (Status.DRAFT, Status.SCHEDULED),
            "schedule_form": schedule_form or ScheduleForm(conference=briefing.conference, initial=_timing(briefing)),
            "can_pause": briefing.status == Status.SENDING,
            "my_mobile": CoordinatorProfile.objects.filter(user=self.request.user)
            .values_list("mobile", flat=True)
            .first()
            or "",
            "can_resume": briefing.status == Status.PAUSED,
            "can_cancel": briefing.status not in (Status.SENT, Status.CANCELLED),
            "lead_minutes": int(briefing.send_lead.total_seconds() // 60) if briefing.send_lead else None,
            "history": briefing.status_changes.select_related("changed_by").order_by("-at", "-pk"),
        }
        if briefing.status in (Briefing.Status.DRAFT, Briefing.Status.SCHEDULED):
            context["preview"] = briefings.preview_briefing(briefing=briefing)
        else:
            context["progress"] = selectors.briefing_progress(briefing=briefing)
            context.update(_report_context(self.request, briefing))
        return render(self.request, self.template_name, context, status=status)


class BriefingSendView(BriefingDetailView):
    """POST only. send_briefing is idempotent: a double click or a second coordinator queues nothing twice."""

    def get(self, request, pk):
        return redirect("lobbying:briefing-detail", pk=pk)

    def post(self, request, pk):
        briefing = self.get_briefing(pk)
        try:
            result = briefings.send_briefing(briefing=briefing, sent_by=request.user)
        except ValidationError as exc:
            errors = [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "error_dict") else exc.messages
            return self.render(briefing, send_error=" ".join(errors), status=400)
        if result.queued or result.skipped:
            messages.success(request, f"Sending to {result.recipients} delegates: {result.queued} texts queued.")
        else:
            messages.info(request, "Already sent: nothing was queued twice.")
        return redirect("lobbying:briefing-detail", pk=pk)


class BriefingTestSendView(BriefingDetailView):
    """POST: text the briefing, marked [TEST], to the coordinator's own mobile (saved for next time)."""

    def get(self, request, pk):
        return redirect("lobbying:briefing-detail", pk=pk)

    def post(self, request, pk):
        briefing = self.get_briefing(pk)
        mobile = request.POST.get("mobile", "").strip()
        try:
            if mobile:
                briefings.set_coordinator_mobile(user=request.user, mobile=mobile)
            briefings.send_test_briefing(briefing=briefing, to_user=request.user)
        except ValidationError as exc:
            return self.render(briefing, send_error=" ".join(exc.messages), status=400)
        messages.success(request, "Test text sent to your mobile.")
        return redirect("lobbying:briefing-detail", pk=pk)


class BriefingScheduleView(BriefingDetailView):
    """POST: send later, at a time or minutes before a motion's agenda slot (re-times a scheduled one)."""

    def get(self, request, pk):
        return redirect("lobbying:briefing-detail", pk=pk)

    def post(self, request, pk):
        briefing = self.get_briefing(pk)
        form = ScheduleForm(request.POST, conference=briefing.conference)
        if form.is_valid():
            try:
                briefing = briefings.schedule_briefing(briefing=briefing, by=request.user, **form.timing)
            except ValidationError as exc:
                apply_schedule_errors(form, exc)
            else:
                messages.success(request, f"Scheduled for {_local(briefing.due_at)}.")
                return redirect("lobbying:briefing-detail", pk=pk)
        return self.render(briefing, schedule_form=form, status=400)


class BriefingActionView(BriefingDetailView):
    """POST only: pause, resume, cancel or unschedule through lobbying.briefings; a refusal says why."""

    actions = {
        "pause": (briefings.pause_briefing, "Paused: texts not yet sent are held."),
        "resume": (briefings.resume_briefing, "Resumed: the held texts are queued again."),
        "cancel": (briefings.cancel_briefing, "Cancelled: texts not yet sent will not be sent."),
        "unschedule": (briefings.unschedule_briefing, "Unscheduled: back to a draft."),
    }

    def get(self, request, pk, action):
        return redirect("lobbying:briefing-detail", pk=pk)

    def post(self, request, pk, action):
        if action not in self.actions:
            raise Http404("No such action")
        service, done = self.actions[action]
        briefing = self.get_briefing(pk)
        extra = {"reason": request.POST.get("reason", "").strip()[:150]} if action == "cancel" else {}
        try:
            service(briefing=briefing, by=request.user, **extra)
        except ValidationError as exc:
            return self.render(briefing, send_error=" ".join(exc.messages), status=400)
        messages.success(request, done)
        return redirect("lobbying:briefing-detail", pk=pk)


def _local(value):
    return timezone.localtime(value).strftime("%a %d %b, %H:%M") if value else "when its motion has a slot"


def _timing(briefing) -> dict:
    if briefing.send_before_motion_id:
        return {
            "send_before_motion": briefing.send_before_motion_id,
            "minutes_before": int(briefing.send_lead.total_seconds() // 60) if briefing.send_lead else None,
        }
    if briefing.send_at:
        zone = ZoneInfo(briefing.conference.timezone)
        return {"send_at": briefing.send_at.astimezone(zone).replace(tzinfo=None)}
    return {}


class BriefingProgressView(BriefingMixin, View):
    """The bar and counts alone, fetched every 2 s by static/js/briefings.js while the briefing is sending."""

    def get(self, request, pk):
        briefing = get_object_or_404(Briefing, pk=pk)
        return render(
            request,
            "lobbying/_briefing_progress.html",
            {
                "briefing": briefing,
                "progress": selectors.briefing_progress(briefing=briefing),
                "live": briefing.status in LIVE_STATUSES,
            },
        )


class BriefingReportView(BriefingMixin, View):
    """The report alone: loaded into the page when sending ends, and for its page links."""

    def get(self, request, pk):
        briefing = get_object_or_404(Briefing, pk=pk)
        return render(
            request, "lobbying/_briefing_report.html", {"briefing": briefing, **_report_context(request, briefing)}
        )
