"""Admin for lobbying. Evidence (stance history, status and stage changes) is read-only: services write it."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from config.admin import EvidenceAdminMixin
from lobbying.models import (
    Briefing,
    BriefingRecipient,
    BriefingStatusChange,
    CoordinatorProfile,
    LobbyingAssignment,
    Motion,
    MotionStatusChange,
    ProposedStance,
    Result,
    StanceChange,
    Subject,
    Submission,
    SubmissionStageChange,
)


class ReadOnlyAdmin(EvidenceAdminMixin, admin.ModelAdmin):
    """Append-only evidence: visible to coordinators, never added, edited or deleted here."""


class ReadOnlyInline(EvidenceAdminMixin, admin.TabularInline):
    pass


class MotionStatusChangeInline(ReadOnlyInline):
    model = MotionStatusChange
    fields = ("at", "from_status", "to_status", "reason", "changed_by")
    readonly_fields = fields


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("name", "conference", "prioritised_by_clps", "prioritised_by_affiliates")
    list_filter = ("conference",)
    search_fields = ("name",)


@admin.register(Motion)
class MotionAdmin(admin.ModelAdmin):
    """Status moves only through the motion pages (services.transition_motion), which keep the history."""

    list_display = ("title", "kind", "position", "status", "subject", "scheduled_for")
    list_filter = ("conference", "status", "kind", "position")
    search_fields = ("title", "text")
    readonly_fields = ("status", "composite", "created_at", "updated_at")
    autocomplete_fields = ("submitted_by",)
    raw_id_fields = ("mover", "seconder")
    inlines = [MotionStatusChangeInline]


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ("motion", "method", "total_for", "total_against", "recorded_at")


@admin.register(MotionStatusChange)
class MotionStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("motion", "from_status", "to_status", "at", "changed_by")
    list_filter = ("to_status",)


class SubmissionStageChangeInline(ReadOnlyInline):
    model = SubmissionStageChange
    fields = ("at", "from_stage", "to_stage", "note", "changed_by")
    readonly_fields = fields


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("organisation", "motion", "stage", "stage_changed_at", "meeting_on")
    list_filter = ("stage", "organisation__region")
    search_fields = ("organisation__name", "local_contact")
    readonly_fields = ("motion", "organisation", "stage", "stage_changed_at", "created_at")
    inlines = [SubmissionStageChangeInline]

    def has_add_permission(self, request):
        return False


@admin.register(StanceChange)
class StanceChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "delegate", "motion", "level", "source", "confidence", "recorded_by", "recorded_by_name")
    list_filter = ("level", "source", "confidence", "motion")
    list_select_related = ("delegate", "motion", "recorded_by")
    search_fields = ("delegate__first_name", "delegate__last_name")
    date_hierarchy = "at"


@admin.register(LobbyingAssignment)
class LobbyingAssignmentAdmin(admin.ModelAdmin):
    list_display = ("volunteer_name", "motion", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("created_at", "revoked_at")
    raw_id_fields = ("delegates",)


@admin.register(SubmissionStageChange)
class SubmissionStageChangeAdmin(ReadOnlyAdmin):
    list_display = ("submission", "from_stage", "to_stage", "at", "changed_by")
    list_filter = ("to_stage",)
    list_select_related = ("submission__organisation", "changed_by")


# Briefings: written only by lobbying.briefings (compose validates merge fields, send freezes the audience), so the
# admin only shows them. Recipients (who was sent what) are evidence; their list is paged, never inlined.


class BriefingStatusChangeInline(ReadOnlyInline):
    model = BriefingStatusChange
    fields = ("at", "from_status", "to_status", "reason", "changed_by")
    readonly_fields = fields


@admin.register(Briefing)
class BriefingAdmin(ReadOnlyAdmin):
    list_display = ("pk", "conference", "motion", "status", "send_at", "useless_after", "created_by", "created_at")
    list_filter = ("status", "conference")
    list_select_related = ("conference", "motion", "created_by")
    inlines = [BriefingStatusChangeInline]


@admin.register(BriefingRecipient)
class BriefingRecipientAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "briefing", "delegate", "created_at")
    list_select_related = ("briefing", "delegate")
    list_filter = ("briefing",)
    raw_id_fields = ("briefing", "delegate")


@admin.register(ProposedStance)
class ProposedStanceAdmin(ReadOnlyAdmin):
    """Replies read as stances: decided only on /lobbying/proposals/ (lobbying.replies), which records who and when."""

    list_display = ("created_at", "delegate", "motion", "level", "status", "decided_by", "decided_at")
    list_filter = ("status", "level", "motion")
    list_select_related = ("delegate", "motion", "decided_by")
    search_fields = ("delegate__first_name", "delegate__last_name")
    raw_id_fields = ("delegate", "motion", "briefing", "inbound", "stance_change")


class CoordinatorProfileForm(forms.ModelForm):
    class Meta:
        model = CoordinatorProfile
        fields = ("user", "mobile")

    def clean_mobile(self):
        from messaging.phones import normalise_mobile

        mobile = (self.cleaned_data.get("mobile") or "").strip()
        try:
            return normalise_mobile(mobile) if mobile else ""
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


@admin.register(CoordinatorProfile)
class CoordinatorProfileAdmin(admin.ModelAdmin):
    """Where a coordinator's test briefings go (set their own with PUT /api/briefings/my-mobile/)."""

    form = CoordinatorProfileForm
    list_display = ("user",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
