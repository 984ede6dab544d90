"""Erasure pages: a coordinator with the data-protection permission finds a person, sees what would go, erases.

The person is only ever named in POST bodies (the number or email typed, the records chosen): nothing personal
goes into a URL or a log line. The page after an erasure shows the AuditEvent's counts.
"""

import logging

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from privacy import erasure
from privacy.models import AuditEvent
from privacy.views import DataProtectionRequiredMixin

logger = logging.getLogger(__name__)


class FindForm(forms.Form):
    query = forms.CharField(
        label="Mobile number or email address",
        max_length=254,
        help_text="As the person gave it: 07700 900123, +44 7700 900123 or name@example.org.",
    )


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have checked these are the right records: erase them. This cannot be undone.",
        error_messages={"required": "Tick the box to confirm the erasure."},
    )


class EraseView(DataProtectionRequiredMixin, View):
    template_name = "privacy/erasure_form.html"

    def get(self, request):
        return render(request, self.template_name, {"step": "find", "form": FindForm()})

    def post(self, request):
        form = FindForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"step": "find", "form": form})
        try:
            lookup = erasure.find_person(query=form.cleaned_data["query"])
        except ValidationError as exc:
            form.add_error("query", exc.message_dict.get("query", exc.messages))
            return render(request, self.template_name, {"step": "find", "form": form})
        context = {"form": form, "lookup": lookup, "query": lookup.query}
        if lookup.erased_before:
            return render(request, self.template_name, {**context, "step": "nothing-left"})
        if not lookup.found_anything:
            return render(request, self.template_name, {**context, "step": "unknown"})
        step = request.POST.get("step", "find")
        chosen = request.POST.getlist("record") if step in ("preview", "erase") else None
        if step == "find" and len(lookup.records) > 1:
            return render(request, self.template_name, {**context, "step": "choose"})
        plan = erasure.plan_erasure(lookup=lookup, keys=chosen)
        if not plan.records and not (lookup.number and (lookup.texts or lookup.assignments)):
            context["choose_error"] = "Choose at least one record."
            return render(request, self.template_name, {**context, "step": "choose"}, status=400)
        chosen_keys = {f"delegate:{pk}" for pk in plan.delegate_ids} | {f"volunteer:{pk}" for pk in plan.volunteer_ids}
        context.update(
            plan=plan,
            chosen=[r for r in lookup.records if r.key in chosen_keys],
            confirm_form=ConfirmForm(request.POST if step == "erase" else None),
        )
        if step == "erase" and context["confirm_form"].is_valid():
            result = erasure.erase(plan=plan, actor=request.user)
            if result.nothing_left:
                return render(request, self.template_name, {**context, "step": "nothing-left"})
            logger.info("erasure %s: %s records by user %s", result.event.pk, result.event.count, request.user.pk)
            return redirect("privacy:erase-done", pk=result.event.pk)
        counts = erasure.preview_erasure(plan=plan)
        if not any(counts.values()):
            return render(request, self.template_name, {**context, "step": "nothing-left"})
        context["rows"] = [(erasure.COUNT_LABELS[k], n) for k, n in counts.items() if n]
        return render(request, self.template_name, {**context, "step": "preview"})


class EraseDoneView(DataProtectionRequiredMixin, View):
    def get(self, request, pk):
        event = get_object_or_404(AuditEvent, pk=pk, action=AuditEvent.Action.ERASURE)
        counts = (event.detail or {}).get("counts", {})
        rows = [(label, counts.get(kind, 0)) for kind, label in erasure.COUNT_LABELS.items() if counts.get(kind)]
        return render(request, "privacy/erasure_done.html", {"event": event, "rows": rows})
