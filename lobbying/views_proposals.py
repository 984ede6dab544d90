"""Coordinator pages for proposed stances: delegates' replies to briefings waiting to be accepted or rejected.

Thin: reads in `lobbying.selectors.pending_proposals`, writes in `lobbying.replies`. The buttons are plain POST
forms (no JavaScript needed); a proposal another coordinator decided first is a message, never an error page.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import ListView, View

from config.permissions import CoordinatorRequiredMixin
from delegates.views import CurrentConferenceMixin, FriendlyPaginationMixin
from lobbying import replies, selectors
from lobbying.models import LEVEL_LABELS, Motion, ProposedStance

PAGE_SIZE = 50


class ProposalFilterForm(forms.Form):
    motion = forms.ModelChoiceField(queryset=Motion.objects.none(), required=False, empty_label="Every motion")

    def __init__(self, *args, conference=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motion"].queryset = Motion.objects.for_conference(conference).order_by("title")


class ProposalListView(CoordinatorRequiredMixin, CurrentConferenceMixin, FriendlyPaginationMixin, ListView):
    """Waiting proposals, newest first: who, the motion, what they texted, their stance now → proposed."""

    template_name = "lobbying/proposal_list.html"
    context_object_name = "proposals"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.filter_form = ProposalFilterForm(self.request.GET, conference=self.conference)
        self.motion = self.filter_form.cleaned_data.get("motion") if self.filter_form.is_valid() else None
        if self.conference is None:
            return ProposedStance.objects.none()
        return selectors.pending_proposals(conference=self.conference, motion=self.motion)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            filter_form=self.filter_form,
            motion=self.motion,
            query=urlencode({"motion": self.motion.pk}) if self.motion else "",
            level_labels=LEVEL_LABELS,
            **kwargs,
        )


class ProposalDecideView(CoordinatorRequiredMixin, View):
    """Accept or reject one proposal, then back to the list (keeping its motion filter)."""

    http_method_names = ["post"]
    decide = None  # the service: replies.accept_proposed_stance or replies.reject_proposed_stance

    def post(self, request, pk):
        proposal = get_object_or_404(
            ProposedStance.objects.select_related("delegate", "motion", "inbound", "decided_by"), pk=pk
        )
        try:
            proposal = self.decide(proposal=proposal, by=request.user)
        except ValidationError as exc:
            messages.warning(request, " ".join(exc.messages))
        else:
            name, level = proposal.delegate.full_name, LEVEL_LABELS[proposal.level].lower()
            if proposal.status == ProposedStance.Status.ACCEPTED:
                messages.success(request, f"Recorded: {name} is {level} on {proposal.motion}.")
            else:
                messages.info(request, f"Rejected: {name}’s reply was not recorded as {level}.")
        url = reverse("lobbying:proposal-list")
        motion = request.POST.get("motion", "")
        return redirect(f"{url}?{urlencode({'motion': motion})}" if motion.isdigit() else url)


class ProposalAcceptView(ProposalDecideView):
    decide = staticmethod(replies.accept_proposed_stance)


class ProposalRejectView(ProposalDecideView):
    decide = staticmethod(replies.reject_proposed_stance)
