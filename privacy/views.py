"""Coordinator pages for data protection: subject access (needs the permission) and the access audit (all
coordinators). A person is identified in a POST body only, never in a URL."""

import json
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from config import audit
from config.permissions import CoordinatorRequiredMixin
from delegates.views import FriendlyPaginationMixin
from privacy.access import parse_identifier, subject_access_export
from privacy.models import DATA_PROTECTION_PERMISSION, AuditEvent
from privacy.selectors import audit_events


class DataProtectionRequiredMixin(CoordinatorRequiredMixin):
    """A coordinator who also holds `privacy.data_protection`; other coordinators get 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm(DATA_PROTECTION_PERMISSION):
            raise PermissionDenied("Only coordinators with the data protection permission may do this.")
        return super().dispatch(request, *args, **kwargs)


class SubjectAccessForm(forms.Form):
    FORMATS = [("page", "Show (printable)"), ("json", "Download JSON")]

    identifier = forms.CharField(label="Phone number or email address", max_length=254)
    format = forms.ChoiceField(choices=FORMATS, required=False)

    def clean_identifier(self):
        return parse_identifier(self.cleaned_data["identifier"])


class SubjectAccessView(DataProtectionRequiredMixin, View):
    http_method_names = ["get", "post"]
    template_name = "privacy/access.html"

    def get(self, request):
        return render(request, self.template_name, {"form": SubjectAccessForm()})

    def post(self, request):
        form = SubjectAccessForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        kind, value = form.cleaned_data["identifier"]
        as_json = form.cleaned_data["format"] == "json"
        export = subject_access_export(kind=kind, value=value)
        audit.record_access(
            action=audit.SUBJECT_ACCESS,
            what=f"subject access export ({'JSON' if as_json else 'page'}, by {export.searched_by})",
            count=export.records,
            actor=request.user,
            detail={"people": len(export.people), "nothing_held": export.nothing_held},
        )
        if as_json:
            response = HttpResponse(
                json.dumps(export.as_json(), indent=2, ensure_ascii=False), content_type="application/json"
            )
            # No personal data in the file name either: it lands in download folders and browser history.
            stamp = timezone.localtime(export.generated_at).strftime("%Y-%m-%d-%H%M")
            response["Content-Disposition"] = f'attachment; filename="subject-access-{stamp}.json"'
            return response
        return render(request, self.template_name, {"form": form, "export": export, "identifier": value})


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditEvent.Action.choices], required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "“To” must be on or after “From”.")
        return data


class AuditListView(CoordinatorRequiredMixin, FriendlyPaginationMixin, ListView):
    """Every coordinator sees who exported, imported, downloaded in bulk or erased, when and how much."""

    template_name = "privacy/audit.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        self.filter_form = AuditFilterForm(self.request.GET or None)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return audit_events(action=filters.get("action"), since=filters.get("since"), until=filters.get("until"))

    def get_context_data(self, **kwargs):
        query = {k: v for k, v in self.request.GET.items() if k != "page" and v}
        return super().get_context_data(filter_form=self.filter_form, query=urlencode(query), **kwargs)
