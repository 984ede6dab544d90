"""Admin for conferences, organisations, delegates and SMS consent (coordinators only: see config.admin).

Organisations and delegates import and export CSV through the resources in delegates.imports, so the
admin applies the same rules as the import page and the management commands: all or nothing.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV
from import_export.forms import ImportForm

from config import audit
from config.admin import EvidenceAdminMixin
from config.csv_export import SafeCSV
from delegates import imports
from delegates.models import Conference, Delegate, Organisation, SmsConsent
from messaging.phones import masked, normalise_mobile
from messaging.services import relink_opt_outs

# --- Import: the same whole-file checks as the import page --------------------------------------------


class CsvImportForm(ImportForm):
    """Refuses oversized, empty, non-UTF-8 and wrongly headed files with a clear message before any row is read."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.resource_class = resources[0]
        self.fields["import_file"].allow_empty_file = True

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if problem := imports.size_problem(upload.size):
            raise ValidationError(problem)
        data = upload.read()
        upload.seek(0)
        try:
            parsed = imports.read_csv(data, kind=self.resource_class.import_kind)
        except imports.ImportFileError as exc:
            raise ValidationError(str(exc)) from None
        if parsed.column_problem:
            raise ValidationError(parsed.column_problem.split(" Choose")[0] + " Rename the column headings.")
        return upload


class CsvImportExportAdmin(ImportExportModelAdmin):
    import_form_class = CsvImportForm
    import_formats = [CSV]
    # Formula-like cells neutralised, and a byte-order mark so Excel reads UTF-8 (config.csv_export).
    export_formats = [SafeCSV]
    to_encoding = "utf-8-sig"

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        audit.record_access(
            action=audit.EXPORT,
            what=f"{self.model._meta.verbose_name_plural} CSV export (admin)",
            count=queryset.count() if hasattr(queryset, "count") else len(queryset),
            actor=request.user,
        )
        return data

    def process_result(self, result, request):
        totals = {k: v for k, v in result.totals.items() if v}
        audit.record_access(
            action=audit.IMPORT,
            what=f"{self.model._meta.verbose_name_plural} import (admin)",
            count=sum(totals.values()),
            actor=request.user,
            detail={"totals": totals},
        )
        return super().process_result(result, request)


# --- Conference ---------------------------------------------------------------------------------------


class ConferenceForm(forms.ModelForm):
    """The admin builds the fields; these add clearer messages than the database constraints give."""

    def clean_is_current(self):
        is_current = self.cleaned_data["is_current"]
        others = Conference.objects.filter(is_current=True)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if is_current and others.exists():
            raise ValidationError(f"“{others.first()}” is the current conference: untick it there first.")
        return is_current


@admin.register(Conference)
class ConferenceAdmin(admin.ModelAdmin):
    form = ConferenceForm
    list_display = ("name", "venue", "starts_on", "ends_on", "is_current")
    list_filter = ("is_current",)
    search_fields = ("name", "slug", "venue", "organiser")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = [
        (None, {"fields": ["name", "slug", "organiser", "venue", "starts_on", "ends_on", "timezone", "is_current"]}),
        (
            "Motions",
            {
                "fields": [
                    "motion_title_max_words",
                    "motion_text_max_words",
                    "motions_deadline",
                    "emergency_motions_deadline",
                    "priorities_per_section",
                    "composite_delegates_per_organisation",
                ]
            },
        ),
        ("Card vote", {"fields": ["clp_section_weight", "affiliate_section_weight"]}),
        ("Data protection", {"fields": ["retention_days"]}),
        (
            "Delegate entitlement",
            {
                "fields": [
                    "delegate_first_band",
                    "delegate_band",
                    "delegate_cap",
                    "extra_woman_min_women",
                    "extra_youth_min_young",
                ]
            },
        ),
    ]


# --- Organisation -------------------------------------------------------------------------------------


class OrganisationForm(forms.ModelForm):
    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if Organisation.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError("Another organisation already has this name.")
        return name

    def clean_gss_code(self):
        code = self.cleaned_data["gss_code"].strip().upper()
        if code and Organisation.objects.filter(gss_code=code).exclude(pk=self.instance.pk).exists():
            raise ValidationError("Another organisation already has this GSS code.")
        return code


@admin.register(Organisation)
class OrganisationAdmin(CsvImportExportAdmin):
    form = OrganisationForm
    resource_classes = [imports.OrganisationResource]
    list_display = ("name", "kind", "region", "membership", "delegate_count", "gss_code", "secretary_name")
    list_filter = ("kind", "region", "nation")
    search_fields = ("name", "short_name", "gss_code", "secretary_name", "secretary_email")
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request):
        # Delegates at the current conference: one COUNT per page, joined in, not one per row.
        return super().get_queryset(request).with_delegate_count(Conference.current())

    @admin.display(description="Delegates", ordering="delegate_count")
    def delegate_count(self, organisation):
        return organisation.delegate_count


# --- Delegate -----------------------------------------------------------------------------------------


class SmsConsentInline(EvidenceAdminMixin, admin.TabularInline):
    """Consent is PECR evidence: shown here, changed only through delegates.services (record / withdraw)."""

    model = SmsConsent
    fields = ("given_at", "method", "wording", "recorded_by", "source", "withdrawn_at", "withdrawal_reason")
    readonly_fields = fields


class DelegateForm(forms.ModelForm):
    def clean_mobile(self):
        raw = self.cleaned_data["mobile"]
        return normalise_mobile(raw) if raw.strip() else ""

    def clean(self):
        cleaned = super().clean()
        mobile, conference = cleaned.get("mobile"), cleaned.get("conference")
        if (
            mobile
            and conference
            and Delegate.objects.holding_mobile(conference, mobile, excluding=self.instance).exists()
        ):
            self.add_error("mobile", "Another delegate at this conference already has this mobile.")
        return cleaned


class HasConsentFilter(admin.SimpleListFilter):
    title = "consented to texts"
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(has_sms_consent=self.value() == "yes")
        return queryset


@admin.register(Delegate)
class DelegateAdmin(CsvImportExportAdmin):
    form = DelegateForm
    resource_classes = [imports.DelegateResource]
    inlines = [SmsConsentInline]
    list_display = (
        "name",
        "organisation",
        "conference",
        "seat_type",
        "gender",
        "is_attending",
        "masked_mobile",
        "has_consent",
    )
    list_select_related = ("organisation", "conference")
    list_filter = (
        "conference",
        "is_attending",
        HasConsentFilter,
        "seat_type",
        "gender",
        "organisation__kind",
        "organisation__region",
    )
    search_fields = ("first_name", "last_name", "email", "organisation__name")
    search_help_text = "Name, email, organisation, or a mobile in any form."
    autocomplete_fields = ("organisation",)
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).with_sms_consent()

    def get_search_results(self, request, queryset, search_term):
        # People type 07…; we store +447…: a term that is a mobile finds that delegate.
        try:
            mobile = normalise_mobile(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(mobile=mobile), False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "conference" not in initial and (current := Conference.current()):
            initial["conference"] = current.pk
        return initial

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The admin's change form runs in one transaction: the mobile and its re-linked opt-out commit together.
        relink_opt_outs(numbers=[obj.mobile], via="delegate admin")

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"conference": Conference.current()}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"conference": Conference.current()}

    @admin.display(description="Name", ordering="last_name")
    def name(self, delegate):
        return delegate.full_name

    @admin.display(description="Mobile", ordering="mobile")
    def masked_mobile(self, delegate):
        return masked(delegate.mobile)

    @admin.display(description="Texts OK", boolean=True, ordering="has_sms_consent")
    def has_consent(self, delegate):
        return delegate.has_sms_consent


# --- SMS consent --------------------------------------------------------------------------------------


@admin.register(SmsConsent)
class SmsConsentAdmin(EvidenceAdminMixin, admin.ModelAdmin):
    """Read-only for everyone: consent is recorded and withdrawn only by delegates.services, keeping every row."""

    list_display = ("delegate", "method", "given_at", "withdrawn_at", "recorded_by")
    list_select_related = ("delegate", "recorded_by")
    list_filter = ("method", ("withdrawn_at", admin.EmptyFieldListFilter), "delegate__conference")
    search_fields = ("delegate__first_name", "delegate__last_name", "wording", "withdrawal_reason")
    raw_id_fields = ("delegate",)
