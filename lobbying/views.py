"""Coordinator pages for lobbying. Thin: reads in `lobbying.selectors`, writes in `lobbying.services`."""

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import ListView, TemplateView, View

from config.permissions import CoordinatorRequiredMixin
from delegates.filters import DelegateFilter
from delegates.models import Conference, Delegate
from delegates.views import FriendlyPaginationMixin, _tidy_filter_form
from lobbying import selectors, services, whip_panels
from lobbying.forms import (
    AddSubmissionForm,
    AssignmentForm,
    CompositeForm,
    ConversationForm,
    MotionForm,
    PipelineFilterForm,
    ResultForm,
    TransitionForm,
    apply_errors,
    read_as_of,
)
from lobbying.models import (
    ALL_LEVELS,
    LEVEL_LABELS,
    MOTION_TRANSITIONS,
    RESULT_FROM,
    Level,
    LobbyingAssignment,
    Motion,
    MotionStatus,
    StanceChange,
    Submission,
)


def dashboard_whip(request, conference, marks: dict | None = None) -> dict:
    """The dashboard's whip section: the panels (as of now, or the moment asked for), their alerts, the picker.

    `marks`: the whip's watermark values if the page has read them already (`selectors.whip_watermark_parts`).
    """
    as_of, form = read_as_of(request, conference)
    panels = whip_panels.whip_panels(conference=conference, as_of=as_of, marks=marks)
    return {"whip_panels_html": panels.html, "whip_alerts": panels.alerts, "whip_as_of": as_of, "whip_form": form}


class CurrentConferenceMixin:
    @cached_property
    def conference(self):
        return Conference.current()

    def get_context_data(self, **kwargs):
        return super().get_context_data(conference=self.conference, **kwargs)


class WhipLiveView(CoordinatorRequiredMixin, CurrentConferenceMixin, View):
    """The whip panels alone, fetched every few seconds by static/js/live.js to update the dashboard."""

    def get(self, request, *args, **kwargs):
        if self.conference is None:
            return HttpResponse(render_to_string(whip_panels.TEMPLATE, {"whip_counts": []}))
        return HttpResponse(dashboard_whip(request, self.conference)["whip_panels_html"])


class StanceFilterForm(forms.Form):
    motion = forms.ModelChoiceField(queryset=Motion.objects.none(), required=False, empty_label=None)
    stance = forms.ChoiceField(
        choices=[("", "Any"), *((level, LEVEL_LABELS[level]) for level in ALL_LEVELS)], required=False
    )

    def __init__(self, *args, conference=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motion"].queryset = Motion.objects.for_conference(conference).order_by("title")


class StanceDelegateListView(CoordinatorRequiredMixin, CurrentConferenceMixin, FriendlyPaginationMixin, ListView):
    """The delegate list with current stances, filtered by stance: where every whip-count cell links to.

    It lives in `lobbying` because `delegates` may not know about stances; it reuses the delegates app's
    own filters (DelegateFilter) on top of `selectors.delegates_with_stance`, so both lists filter alike.
    """

    template_name = "lobbying/stance_delegates.html"
    paginate_by = 50
    context_object_name = "delegates"

    def get_queryset(self):
        conference = self.conference
        self.stance_form = StanceFilterForm(self.request.GET, conference=conference)
        self.stance_form.is_valid()
        data = getattr(self.stance_form, "cleaned_data", {})
        self.as_of, self.as_of_form = read_as_of(self.request, conference)
        self.motion = data.get("motion") or (
            selectors.motions_for_dashboard(conference).first() if conference else None
        )
        if self.motion is None:
            self.filterset = None
            return []
        stance = data.get("stance")
        queryset = selectors.delegates_with_stance(
            motion=self.motion, levels=[stance] if stance else None, as_of=self.as_of
        ).for_list()
        self.filterset = DelegateFilter(self.request.GET, queryset=queryset)
        _tidy_filter_form(self.filterset.form)
        return self.filterset.qs.order_by("-card_vote", "last_name", "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = urlencode([(k, v) for k, v in self.request.GET.items() if k != "page" and v])
        context.update(
            motion=self.motion,
            stance_form=self.stance_form,
            as_of=self.as_of,
            as_of_form=self.as_of_form,
            filterset=self.filterset,
            query=query,
            level_labels=LEVEL_LABELS,
        )
        return context


# Motions -----------------------------------------------------------------------------------------------------------


class MotionListView(CoordinatorRequiredMixin, CurrentConferenceMixin, ListView):
    template_name = "lobbying/motion_list.html"
    context_object_name = "motions"

    def get_queryset(self):
        if not self.conference:
            return Motion.objects.none()
        # Two queries whatever the number of motions: motions with subject, composite and result; then submitters.
        return (
            Motion.objects.for_conference(self.conference)
            .select_related("subject", "composite", "result")
            .order_by("subject__name", "composite_number", "title", "pk")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Three queries whatever the size: subjects with tracked motions, attending totals, stances per subject.
        context["subject_counts"] = (
            selectors.whip_counts_by_subject(conference=self.conference) if self.conference else []
        )
        return context


class MotionFormMixin(CoordinatorRequiredMixin, CurrentConferenceMixin):
    template_name = "lobbying/motion_form.html"
    motion = None

    def get(self, request, *args, **kwargs):
        return self.render(self.make_form(initial=self.initial()))

    def initial(self):
        return {}

    def make_form(self, data=None, initial=None):
        conference = self.motion.conference if self.motion else self.conference
        return MotionForm(data, initial=initial, conference=conference)

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                motion = self.save(form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Saved “{motion}”.")
                return redirect(motion.get_absolute_url())
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "motion": self.motion, "conference": self.conference},
            status=status,
        )


class MotionCreateView(MotionFormMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if Conference.current() is None:
            raise Http404("No conference yet")
        return super().dispatch(request, *args, **kwargs)

    def save(self, data):
        return services.create_motion(conference=self.conference, created_by=self.request.user, **data)


class MotionUpdateView(MotionFormMixin, View):
    def dispatch(self, request, *args, pk, **kwargs):
        self.motion = get_object_or_404(Motion, pk=pk)
        return super().dispatch(request, *args, **kwargs)

    def initial(self):
        m = self.motion
        return {f: getattr(m, f) for f in ("title", "text", "kind", "position", "subject", "is_campaign_motion")}

    def save(self, data):
        return services.update_motion(motion=self.motion, changed_by=self.request.user, **data)


class CompositeCreateView(CoordinatorRequiredMixin, CurrentConferenceMixin, View):
    """Merge prioritised motions of one subject into a numbered composite, with its mover and seconder."""

    template_name = "lobbying/composite_form.html"

    def dispatch(self, request, *args, **kwargs):
        if Conference.current() is None:
            raise Http404("No conference yet")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(CompositeForm(conference=self.conference))

    def post(self, request):
        form = CompositeForm(request.POST, conference=self.conference)
        if form.is_valid():
            data = form.cleaned_data
            try:
                composite = services.create_composite(
                    motions=data["motions"],
                    title=data["title"],
                    text=data["text"],
                    number=data["number"],
                    mover=data["mover"],
                    seconder=data["seconder"],
                    position=data["position"] or None,
                    created_by=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Made “{composite}”.")
                return redirect(composite.get_absolute_url())
        return self.render(form, status=400)

    def render(self, form, status=200):
        return render(self.request, self.template_name, {"form": form, "conference": self.conference}, status=status)


TRANSITION_LABELS = {
    MotionStatus.SUBMITTED: "Mark submitted",
    MotionStatus.RULED_IN: "Ruled in order",
    MotionStatus.RULED_OUT: "Ruled out of order",
    MotionStatus.PRIORITISED: "Prioritised",
    MotionStatus.NOT_PRIORITISED: "Not prioritised",
    MotionStatus.SCHEDULED: "Schedule the debate",
    MotionStatus.DEBATED: "Debated",
    MotionStatus.WITHDRAWN: "Withdrawn",
    MotionStatus.REMITTED: "Remitted",
    MotionStatus.REFERRED_BACK: "Referred back",
}


class MotionDetailView(CoordinatorRequiredMixin, View):
    template_name = "lobbying/motion_detail.html"

    def get(self, request, pk):
        motion = self.get_motion(pk)
        return self.render(motion, result_form=ResultForm())

    def get_motion(self, pk):
        return get_object_or_404(
            Motion.objects.select_related("conference", "subject", "composite", "mover", "seconder", "result"), pk=pk
        )

    def render(self, motion, *, result_form, transition_form=None, status=200):
        allowed = MOTION_TRANSITIONS.get(motion.status, {})
        failed = transition_form.data.get("to_status") if transition_form else None
        transitions = [
            {
                "to": to,
                "label": TRANSITION_LABELS.get(to, MotionStatus(to).label),
                "needs_reason": needs_reason,
                "errors": transition_form.errors if failed == to else None,
            }
            for to, needs_reason in allowed.items()
            if to != MotionStatus.COMPOSITED
        ]
        count = selectors.whip_count(motion=motion)
        return render(
            self.request,
            self.template_name,
            {
                "motion": motion,
                "conference": motion.conference,
                "transitions": transitions,
                "transition_form": transition_form,
                # A refused move that has no button of its own (a stale page, a hand-made request): say why on top.
                "transition_errors": [m for ms in transition_form.errors.values() for m in ms]
                if transition_form is not None and failed not in allowed
                else [],
                "can_record_result": motion.status in RESULT_FROM,
                "result_form": result_form,
                "count": count,
                "projection": selectors.projection_by_section(count),
                "history": motion.status_changes.select_related("changed_by").order_by("-at", "-pk"),
                "submitters": motion.submitted_by.order_by("name"),
                "merged": motion.merged_motions.order_by("title"),
            },
            status=status,
        )


class MotionTransitionView(MotionDetailView):
    def get(self, request, pk):
        return redirect("lobbying:motion-detail", pk=pk)

    def post(self, request, pk):
        motion = self.get_motion(pk)
        form = TransitionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            scheduled_for = data.get("scheduled_for")
            if scheduled_for and timezone.is_naive(scheduled_for):
                scheduled_for = scheduled_for.replace(tzinfo=ZoneInfo(motion.conference.timezone))
            try:
                motion = services.transition_motion(
                    motion=motion,
                    to_status=data["to_status"],
                    reason=data["reason"],
                    scheduled_for=scheduled_for,
                    session=data["session"] or None,
                    changed_by=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"“{motion}” is now {motion.get_status_display().lower()}.")
                return redirect(motion.get_absolute_url())
        return self.render(motion, result_form=ResultForm(), transition_form=form, status=400)


class MotionResultView(MotionDetailView):
    def get(self, request, pk):
        return redirect("lobbying:motion-detail", pk=pk)

    def post(self, request, pk):
        motion = self.get_motion(pk)
        form = ResultForm(request.POST)
        if form.is_valid():
            try:
                services.record_result(motion=motion, recorded_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Result recorded.")
                return redirect(motion.get_absolute_url())
        return self.render(motion, result_form=form, status=400)


# Who to talk to next -----------------------------------------------------------------------------------------------


class TalkNextView(CoordinatorRequiredMixin, View):
    """A ranked list of delegates still in play, with one tap to record a conversation's outcome."""

    template_name = "lobbying/talk_next.html"

    def get(self, request, pk):
        motion = get_object_or_404(Motion.objects.select_related("conference"), pk=pk)
        return self.render(motion)

    def render(self, motion, form=None, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "motion": motion,
                "delegates": selectors.who_to_talk_to(motion=motion),
                "levels": Level.choices,
                "form": form,
            },
            status=status,
        )

    def post(self, request, pk):
        motion = get_object_or_404(Motion.objects.select_related("conference"), pk=pk)
        form = ConversationForm(request.POST)
        if form.is_valid():
            delegate = Delegate.objects.filter(pk=form.cleaned_data["delegate"]).first()
            try:
                if delegate is None:
                    raise ValidationError({"delegate": "No such delegate."})
                services.record_stance(
                    delegate=delegate,
                    motion=motion,
                    level=form.cleaned_data["level"],
                    source=StanceChange.Source.CONVERSATION,
                    recorded_by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"Recorded: {delegate.full_name} is {LEVEL_LABELS[form.cleaned_data['level']].lower()}."
                )
                return redirect("lobbying:talk-next", pk=motion.pk)
        return self.render(motion, form=form, status=400)


# Submissions pipeline ----------------------------------------------------------------------------------------------


class PipelineView(CoordinatorRequiredMixin, CurrentConferenceMixin, TemplateView):
    """The campaign's motion with each CLP: counts per stage, and who has been stuck longest."""

    template_name = "lobbying/pipeline.html"
    add_form = None

    def post(self, request, *args, **kwargs):
        """Add an organisation to the chosen motion's pipeline; errors show on the form, what was typed kept."""
        context = self.get_context_data(**kwargs)
        motion = context["motion"]
        if motion is None:
            raise Http404("No campaign motion")
        form = AddSubmissionForm(request.POST, motion=motion)
        if form.is_valid():
            try:
                submission = services.start_submission(motion=motion, changed_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{submission.organisation.name}: added to the pipeline.")
                return redirect(reverse("lobbying:pipeline") + "?" + urlencode({"motion": motion.pk}))
        context["add_form"] = form
        return self.render_to_response(context, status=400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        motions = Motion.objects.for_conference(self.conference).filter(is_campaign_motion=True).order_by("pk")
        form = PipelineFilterForm(self.request.GET or None, motions=motions)
        data = form.cleaned_data if form.is_valid() else {}
        motion = data.get("motion") or motions.first()
        region = data.get("region") or None
        context.update(form=form, motion=motion, region=region)
        if motion is not None:
            context["add_form"] = AddSubmissionForm(motion=motion)
            overview = selectors.pipeline(motion=motion, region=region)
            top = max((row["count"] for row in overview["stages"]), default=0) or 1
            for row in overview["stages"]:
                row["width"] = round(100 * row["count"] / top, 1)
                row["url"] = "?" + urlencode({"motion": motion.pk, "region": region or "", "stage": row["stage"]})
            context.update(overview)
            stage = self.request.GET.get("stage")
            if stage in Submission.Stage.values:
                context["stage"] = Submission.Stage(stage)
                context["in_stage"] = selectors.submissions_in_stage(motion=motion, stage=stage, region=region)
        return context


# Lobbying assignments ----------------------------------------------------------------------------------------------


class AssignmentListView(CoordinatorRequiredMixin, CurrentConferenceMixin, ListView):
    template_name = "lobbying/assignment_list.html"
    context_object_name = "assignments"

    def get_queryset(self):
        return (
            LobbyingAssignment.objects.filter(conference=self.conference)
            .select_related("motion")
            .annotate(delegate_count=Count("delegates"))
            .order_by("-created_at", "-pk")
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(now=timezone.now(), **kwargs)


class AssignmentCreateView(CoordinatorRequiredMixin, CurrentConferenceMixin, View):
    """Pick a motion, then tick delegates from the "who to talk to next" list for it."""

    template_name = "lobbying/assignment_form.html"

    def dispatch(self, request, *args, **kwargs):
        if Conference.current() is None:
            raise Http404("No conference yet")
        return super().dispatch(request, *args, **kwargs)

    def motion(self):
        motions = Motion.objects.for_conference(self.conference).tracked()
        value = self.request.POST.get("motion") or self.request.GET.get("motion") or ""
        chosen = motions.filter(pk=int(value)).first() if value.isdigit() else None
        return chosen or selectors.motions_for_dashboard(self.conference).first()

    def make_form(self, data=None):
        motion = self.motion()
        choices = Delegate.objects.none()
        if motion is not None:
            ids = [d.pk for d in selectors.who_to_talk_to(motion=motion, limit=60)]
            choices = Delegate.objects.filter(pk__in=ids).select_related("organisation").order_by("last_name", "pk")
        way = "FOR" if motion and motion.position == Motion.Position.SUPPORT else "AGAINST"
        initial = {"motion": motion, "ask": f"Ask them to vote {way} “{motion}”." if motion else ""}
        return AssignmentForm(data, initial=initial, conference=self.conference, delegate_choices=choices)

    def get(self, request):
        return render(request, self.template_name, {"form": self.make_form(), "conference": self.conference})

    def post(self, request):
        form = self.make_form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                assignment = services.create_assignment(created_by=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Assignment made: send the volunteer their private link.")
                return redirect(assignment.get_absolute_url())
        return render(request, self.template_name, {"form": form, "conference": self.conference}, status=400)


class AssignmentDetailView(CoordinatorRequiredMixin, View):
    template_name = "lobbying/assignment_detail.html"

    def get(self, request, pk):
        assignment = get_object_or_404(LobbyingAssignment.objects.select_related("motion"), pk=pk)
        link = request.build_absolute_uri(
            reverse("lobbying:volunteer-link", args=[services.assignment_token(assignment)])
        )
        delegates = (
            selectors.delegates_with_stance(motion=assignment.motion)
            .filter(lobbying_assignments=assignment)
            .select_related("organisation")
        )
        return render(
            request,
            self.template_name,
            {"assignment": assignment, "link": link, "delegates": delegates, "is_live": assignment.is_live()},
        )


class AssignmentRevokeView(CoordinatorRequiredMixin, View):
    def post(self, request, pk):
        assignment = get_object_or_404(LobbyingAssignment, pk=pk)
        services.revoke_assignment(assignment=assignment, revoked_by=request.user)
        messages.success(request, "The link no longer works.")
        return redirect(assignment.get_absolute_url())


class VolunteerLinkView(View):
    """The volunteer's phone page behind their private link: their delegates and the ask, nothing more.

    No login: the signed token is the key. A tampered, expired or revoked link is a 404 that says so. It shows
    no phone numbers, no card votes and no stances (not even their own delegates' earlier ones).
    """

    template_name = "lobbying/volunteer_link.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.assignment = selectors.assignment_from_token(kwargs["token"])

    def get(self, request, token):
        if self.assignment is None:
            return render(request, "lobbying/volunteer_link_gone.html", status=404)
        return self.render(token)

    def render(self, token, form=None, status=200):
        delegates = self.assignment.delegates.select_related("organisation").order_by("last_name", "first_name", "pk")
        return render(
            self.request,
            self.template_name,
            {"assignment": self.assignment, "delegates": delegates, "levels": Level.choices, "form": form},
            status=status,
        )

    def post(self, request, token):
        if self.assignment is None:
            return render(request, "lobbying/volunteer_link_gone.html", status=404)
        form = ConversationForm(request.POST)
        if form.is_valid():
            try:
                services.record_conversation(
                    assignment=self.assignment,
                    delegate_id=form.cleaned_data["delegate"],
                    level=form.cleaned_data["level"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Thanks: recorded.")
                return redirect(request.path)
        return self.render(token, form=form, status=400)


# Daily whip sheet --------------------------------------------------------------------------------------------------


class WhipSheetView(CoordinatorRequiredMixin, CurrentConferenceMixin, TemplateView):
    """A printable A4 sheet for one conference day: each item on the agenda, how to vote, and card-vote figures."""

    template_name = "lobbying/whip_sheet.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        conference = self.conference
        if conference is None:
            return context
        length = (conference.ends_on - conference.starts_on).days + 1
        days = [conference.starts_on + dt.timedelta(days=n) for n in range(length)]
        chosen = self.request.GET.get("day", "")
        try:
            day = dt.date.fromisoformat(chosen) if chosen else None
        except ValueError:
            day = None
        if day not in days:
            today = timezone.localdate(timezone=ZoneInfo(conference.timezone))
            day = today if today in days else days[0]
        items = selectors.agenda_for_day(conference=conference, day=day)
        counts = {c["motion"].pk: c for c in selectors.whip_counts(conference=conference, motions=items)}
        context.update(
            days=days,
            day=day,
            items=[{"motion": m, "count": counts.get(m.pk)} for m in items],
        )
        return context


class SubmissionMoveView(CoordinatorRequiredMixin, View):
    """One tap on the pipeline page moves a submission to its next stage (the service refuses impossible moves)."""

    def post(self, request, pk):
        submission = get_object_or_404(Submission.objects.select_related("organisation"), pk=pk)
        try:
            services.move_submission(
                submission=submission, stage=request.POST.get("stage", ""), changed_by=request.user
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"{submission.organisation.name}: moved on.")
        back = request.POST.get("next", "")
        if not back.startswith("?"):
            back = ""
        return redirect(reverse("lobbying:pipeline") + back)
