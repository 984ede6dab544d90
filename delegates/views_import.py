"""The coordinator's import page: upload a CSV, see what it would do (or every bad row), then confirm.

The upload waits between preview and confirm in the database (``PendingImport``), keyed by a random token
and tied to the coordinator who uploaded it, so it survives a Redis outage and any process can serve it.
Files above ``IMPORT_BACKGROUND_ROWS`` rows are checked and imported by a Celery worker while the page
shows a progress bar.
"""

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from config.permissions import CoordinatorRequiredMixin
from delegates import imports
from delegates.models import Conference, PendingImport

logger = logging.getLogger(__name__)
EXPIRED = "That upload has expired or was already imported: upload the file again."


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


def _pending_for(request, token: str) -> PendingImport | None:
    if not token:
        return None
    return (
        PendingImport.objects.select_related("conference", "created_by")
        .filter(token=token, created_by=request.user)
        .first()
    )


def _queue(pending: PendingImport, action: str) -> None:
    """Hand a big file to a worker; if the broker cannot take it, do the work in this request instead."""
    from delegates.tasks import run_pending_import

    try:
        run_pending_import.delay(pending.pk, action)
    except Exception:
        logger.warning("import %s: broker unavailable, running %s in the request", pending.pk, action)
        run_pending_import.run(pending.pk, action)


class DelegateImportView(CoordinatorRequiredMixin, View):
    def get(self, request):
        return self.show_form(request, ImportForm())

    def post(self, request):
        for action in ("confirm", "columns", "cancel"):
            if action in request.POST:
                pending = _pending_for(request, request.POST[action])
                # A file still being checked can be cancelled (its worker finds the row gone and stops).
                ready = pending is not None and (pending.status == PendingImport.Status.READY or action == "cancel")
                if not ready or pending.status == PendingImport.Status.IMPORTING:
                    return self.show_form(request, ImportForm(), error=EXPIRED)
                return getattr(self, action)(request, pending)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.show_form(request, form)
        upload = form.cleaned_data["file"]
        data = upload.read()
        kind = form.cleaned_data["kind"]
        # Whole-file problems are answered at once, before anything is stored.
        try:
            imports.decode_csv(data, noun=imports.SPECS[kind].noun)
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.show_form(request, form)
        pending = imports.start_pending_import(
            user=request.user, kind=kind, conference=Conference.current(), data=data, file_name=upload.name
        )
        return self.check(request, pending, file_form=form)

    def check(self, request, pending, *, file_form=None):
        if imports.runs_in_background(pending):
            _queue(pending, "check")
            return redirect("delegate-import-pending", token=pending.token)
        report = imports.check_pending_import(pending=pending)
        if report.file_error and file_form is not None:
            imports.cancel_pending_import(pending=pending)
            file_form.add_error("file", report.file_error)
            return self.show_form(request, file_form)
        return show_report(request, pending, report)

    def columns(self, request, pending):
        report = imports.ImportReport.from_json(pending.report)
        chosen = {}
        for column in report.columns:
            value = request.POST.get(f"column-{column.index}")
            if value is not None and value != column.field:
                chosen[column.key] = value
        imports.choose_columns(pending=pending, chosen=chosen, user=request.user)
        return self.check(request, pending)

    def confirm(self, request, pending):
        imports.set_skip_bad_rows(pending=pending, skip=request.POST.get("skip_bad_rows") == "1")
        if imports.runs_in_background(pending):
            imports.mark_importing(pending=pending)
            _queue(pending, "import")
            return redirect("delegate-import-pending", token=pending.token)
        report = imports.confirm_pending_import(pending=pending)
        if report.committed:
            return finished(request, report)
        # The data changed between preview and confirm; show what is wrong now.
        return show_report(request, pending, report)

    def cancel(self, request, pending):
        imports.cancel_pending_import(pending=pending)
        messages.info(request, "Import cancelled: nothing was imported and the upload is deleted.")
        return redirect("delegate-import")

    def show_form(self, request, form, *, error=""):
        context = {
            "form": form,
            "error": error,
            "conference": Conference.current(),
            "columns": {
                spec.kind: {
                    "required": [imports.FIELD_LABELS[f] for f in spec.required],
                    "optional": [imports.FIELD_LABELS[f] for f in spec.fields if f not in spec.required],
                }
                for spec in imports.SPECS.values()
            },
            "max_rows": settings.IMPORT_MAX_ROWS,
        }
        return render(request, "delegates/import.html", context)


def finished(request, report):
    messages.success(request, report.summary())
    for warning in report.warnings:
        messages.warning(request, warning)
    return redirect("delegate-import")


def show_report(request, pending, report):
    spec = imports.SPECS[pending.kind]
    context = {
        "report": report,
        "token": pending.token if report.file_error == "" else "",
        "file_name": pending.file_name,
        "conference": pending.conference or Conference.current(),
        "field_choices": spec.choices(),
        "open_columns": bool(report.column_error or report.ignored),
    }
    return render(request, "delegates/import_result.html", context)


class PendingImportView(CoordinatorRequiredMixin, View):
    """An upload being checked or imported in the background: a progress bar, then its report."""

    def get(self, request, token):
        pending = _pending_for(request, token)
        if pending is None:
            raise Http404(EXPIRED)
        if pending.status in (PendingImport.Status.CHECKING, PendingImport.Status.IMPORTING):
            context = {"pending": pending, "progress_url": reverse("delegate-import-progress", args=[token])}
            return render(request, "delegates/import_progress.html", context)
        report = imports.ImportReport.from_json(pending.report)
        if pending.status == PendingImport.Status.DONE:
            imports.cancel_pending_import(pending=pending)  # shown once, then gone
            return finished(request, report)
        return show_report(request, pending, report)


class PendingImportProgressView(CoordinatorRequiredMixin, View):
    def get(self, request, token):
        pending = _pending_for(request, token)
        if pending is None:
            return JsonResponse({"status": "gone"}, status=404)
        return JsonResponse({"status": pending.status, "done": pending.rows_done, "total": pending.rows_total})
