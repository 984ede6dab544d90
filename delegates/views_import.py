"""The coordinator's import page: upload a CSV, see what it would do (or every bad row), then confirm.

The upload waits between preview and confirm in the cache (Redis, or the file cache shared by every
process on the machine), keyed by a random token and tied to the coordinator who uploaded it.
"""

import secrets

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.views import View

from config.permissions import CoordinatorRequiredMixin
from delegates import imports
from delegates.models import Conference

PENDING_SECONDS = 30 * 60
KINDS = {
    "delegates": imports.DelegateResource,
    "organisations": imports.OrganisationResource,
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[("delegates", "Delegates"), ("organisations", "Organisations")],
        initial="delegates",
        widget=forms.RadioSelect,
    )
    # Empty files get the import's own clearer message.
    file = forms.FileField(
        label="CSV file", allow_empty_file=True, help_text="Saved from a spreadsheet as “CSV UTF-8 (comma delimited)”."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if problem := imports.size_problem(upload.size):
            raise forms.ValidationError(problem)
        return upload


def _run(kind: str, *, data: bytes, user, dry_run: bool, conference):
    if kind == "organisations":
        return imports.import_organisations(data=data, user=user, dry_run=dry_run)
    return imports.import_delegates(data=data, conference=conference, user=user, dry_run=dry_run)


def _key(token: str) -> str:
    return f"cardvote:import:{token}"


class DelegateImportView(CoordinatorRequiredMixin, View):
    def get(self, request):
        return self.show_form(request, ImportForm())

    def post(self, request):
        if "confirm" in request.POST:
            return self.confirm(request, request.POST["confirm"])
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.show_form(request, form)
        kind = form.cleaned_data["kind"]
        data = form.cleaned_data["file"].read()
        conference = Conference.current()
        report = _run(kind, data=data, user=request.user, dry_run=True, conference=conference)
        if report.file_error:
            form.add_error("file", report.file_error)
            return self.show_form(request, form)
        token = ""
        if report.ok:
            token = secrets.token_urlsafe(24)
            pending = {
                "user": request.user.pk,
                "kind": kind,
                "data": data,
                "conference": getattr(conference, "pk", None),
            }
            cache.set(_key(token), pending, PENDING_SECONDS)
        return self.show_report(request, report, token=token, file_name=form.cleaned_data["file"].name)

    def confirm(self, request, token: str):
        pending = cache.get(_key(token)) if token else None
        if not pending or pending["user"] != request.user.pk:
            message = "That upload has expired or was already imported: upload the file again."
            return self.show_form(request, ImportForm(), error=message)
        cache.delete(_key(token))
        conference = Conference.objects.filter(pk=pending["conference"]).first()
        report = _run(pending["kind"], data=pending["data"], user=request.user, dry_run=False, conference=conference)
        if report.committed:
            messages.success(request, report.summary())
            return redirect("delegate-import")
        # The data changed between preview and confirm; show what is wrong now.
        return self.show_report(request, report, token="")

    def show_form(self, request, form, *, error=""):
        context = {
            "form": form,
            "error": error,
            "conference": Conference.current(),
            "columns": {
                kind: {
                    "required": resource.required_columns,
                    "optional": [c for c in resource.known_columns() if c not in resource.required_columns],
                }
                for kind, resource in KINDS.items()
            },
        }
        return render(request, "delegates/import.html", context)

    def show_report(self, request, report, *, token: str, file_name: str = ""):
        context = {"report": report, "token": token, "file_name": file_name, "conference": Conference.current()}
        return render(request, "delegates/import_result.html", context)
