"""Admin for shifts and volunteers. Sign-up statuses and their history are read-only here: they change only
through volunteers.services (which keeps the waitlist, the capacity and the history right)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef

from config.admin import EvidenceAdminMixin
from messaging.models import OptOut
from messaging.phones import masked, normalise_mobile
from messaging.services import relink_opt_outs
from volunteers import services
from volunteers.models import Location, Shift, Signup, SignupChange, Volunteer, VolunteerConsent


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "conference", "directions"]
    list_filter = ["conference"]
    search_fields = ["name"]


class SignupInline(EvidenceAdminMixin, admin.TabularInline):
    model = Signup
    fields = ["volunteer", "status", "queued_at", "offer_expires_at", "reconfirmed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class ShiftAdminForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = ["conference", "role", "location", "starts_at", "ends_at", "capacity", "minimum", "lead", "notes"]

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk:
            taken = self.instance.signups.holding_place().count()
            if capacity is not None and capacity < taken:
                raise ValidationError(f"{taken} volunteers already hold places: cancel some before lowering it.")
        return capacity


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    form = ShiftAdminForm
    list_display = ["__str__", "role", "location", "starts_at", "ends_at", "capacity", "minimum", "cancelled"]
    list_filter = ["conference", "role", "location", "cancelled"]
    date_hierarchy = "starts_at"
    # Cancelling texts volunteers and cancels their sign-ups: use the action (a service), not the checkbox.
    readonly_fields = ["cancelled", "created_at", "updated_at"]
    autocomplete_fields = ["lead"]
    inlines = [SignupInline]
    actions = ["cancel_shifts"]

    def save_model(self, request, obj, form, change):
        """Through the services, like the rota pages: a moved shift texts its volunteers, new places are offered."""
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in services.SHIFT_EDITABLE}
            saved = services.update_shift(shift=obj, by=request.user, **changes)
        else:
            data = {f: form.cleaned_data[f] for f in services.SHIFT_EDITABLE if f in form.cleaned_data}
            saved = services.create_shift(conference=form.cleaned_data["conference"], **data)
        obj.pk = saved.pk

    @admin.action(description="Cancel the selected shifts (texts their volunteers)")
    def cancel_shifts(self, request, queryset):
        for shift in queryset:
            services.cancel_shift(shift=shift, by=request.user)
        self.message_user(request, f"Cancelled {queryset.count()} shifts.", messages.SUCCESS)


class VolunteerConsentInline(EvidenceAdminMixin, admin.TabularInline):
    """PECR evidence: each consent with its words; changed only by volunteers.services."""

    model = VolunteerConsent
    fields = ["given_at", "source", "wording", "recorded_by", "withdrawn_at", "withdrawal_reason"]
    readonly_fields = fields


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ["name", "masked_mobile", "consent_given_at", "texted_stop", "created_at"]
    search_fields = ["name", "email"]
    readonly_fields = [
        "consent_given_at",
        "consent_wording",
        "consent_source",
        "texted_stop",
        "last_asked_to_cover_at",
        "created_at",
    ]
    inlines = [VolunteerConsentInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The admin's change form runs in one transaction: the mobile and its re-linked opt-out commit together.
        relink_opt_outs(numbers=[obj.mobile], via="volunteer admin")

    def get_queryset(self, request):
        # A STOP withdraws consent to every text: messaging's opt-out list, matched in the same query by number,
        # which finds an erased person's opt-out too once a record holds the number again (relink_opt_outs).
        stopped = OptOut.objects.filter(number=OuterRef("mobile"), opted_out=True)
        return super().get_queryset(request).annotate(has_stopped=Exists(stopped))

    @admin.display(description="Texted STOP", boolean=True, ordering="has_stopped")
    def texted_stop(self, obj):
        return getattr(obj, "has_stopped", None)

    @admin.display(description="Mobile")
    def masked_mobile(self, obj):
        return masked(obj.mobile)

    def get_search_results(self, request, queryset, search_term):
        try:
            number = normalise_mobile(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(mobile=number), False


class SignupChangeInline(EvidenceAdminMixin, admin.TabularInline):
    model = SignupChange
    fields = ["at", "from_status", "to_status", "reason", "source", "by"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Signup)
class SignupAdmin(EvidenceAdminMixin, admin.ModelAdmin):
    list_display = ["id", "shift", "volunteer", "status", "queued_at", "offer_expires_at"]
    list_filter = ["status", "shift__conference", "shift__role"]
    search_fields = ["volunteer__name"]
    list_select_related = ["shift__location", "shift__conference", "volunteer"]
    inlines = [SignupChangeInline]


@admin.register(SignupChange)
class SignupChangeAdmin(EvidenceAdminMixin, admin.ModelAdmin):
    list_display = ["at", "signup", "from_status", "to_status", "source", "reason"]
    list_filter = ["to_status", "source"]
    list_select_related = ["signup"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VolunteerConsent)
class VolunteerConsentAdmin(EvidenceAdminMixin, admin.ModelAdmin):
    """Read-only for everyone: recorded and withdrawn only by volunteers.services, every row kept."""

    list_display = ["volunteer", "given_at", "source", "withdrawn_at"]
    list_filter = ["source", "given_at", "withdrawn_at"]
    search_fields = ["volunteer__name"]
    list_select_related = ["volunteer"]
    fields = ["volunteer", "given_at", "source", "wording", "recorded_by", "withdrawn_at", "withdrawal_reason"]
    readonly_fields = fields
