"""Admin for the outbox, replies and opt-outs. Read-only where a status has a service: nothing here skips history.

Lists show masked numbers; search takes a number as people type it (07…, +44 7…) and finds it exactly.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from messaging import services
from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage, OutboundStatusChange
from messaging.phones import masked, normalise_mobile


class NumberSearchMixin:
    """Exact search on a phone number field, whatever way it was typed; the usual search otherwise."""

    number_field = ""

    def get_search_results(self, request, queryset, search_term):
        try:
            number = normalise_mobile(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(**{self.number_field: number}), False


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OutboundStatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = OutboundStatusChange
    fields = ["at", "from_status", "to_status", "reason", "error_code"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(NumberSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    number_field = "to"
    list_display = [
        "id",
        "masked_to",
        "purpose",
        "status",
        "marketing",
        "segments",
        "attempts",
        "error_code",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "purpose", "marketing", "encoding", "created_at"]
    search_fields = ["idempotency_key", "provider_sid"]
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False  # a count(*) over a big outbox on every page is not worth it
    inlines = [OutboundStatusChangeInline]
    readonly_fields = [
        "idempotency_key",
        "to",
        "body",
        "purpose",
        "marketing",
        "opt_out_exempt",
        "status",
        "useless_after",
        "provider_sid",
        "error_code",
        "error_message",
        "attempts",
        "segments",
        "encoding",
        "cost_estimate",
        "next_attempt_at",
        "created_at",
        "claimed_at",
        "sent_at",
        "delivered_at",
        "updated_at",
    ]

    @admin.display(description="To", ordering="to")
    def masked_to(self, obj):
        return obj.masked_to


@admin.register(OutboundStatusChange)
class OutboundStatusChangeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "message_id", "from_status", "to_status", "reason", "error_code"]
    list_filter = ["to_status", "at"]
    search_fields = ["=message__id", "message__idempotency_key", "error_code"]
    list_per_page = 100
    show_full_result_count = False


@admin.register(InboundMessage)
class InboundMessageAdmin(NumberSearchMixin, admin.ModelAdmin):
    number_field = "from_number"
    list_display = ["id", "masked_from", "keyword", "purpose", "received_at", "handled", "handled_by"]
    list_filter = ["handled", "keyword", "purpose", "received_at"]
    search_fields = ["provider_sid", "body"]
    list_select_related = ["handled_by"]
    show_full_result_count = False
    date_hierarchy = "received_at"
    actions = ["mark_handled", "mark_unhandled"]
    readonly_fields = [
        "from_number",
        "to_number",
        "body",
        "provider_sid",
        "received_at",
        "purpose",
        "in_reply_to",
        "keyword",
        "handled",
        "handled_at",
        "handled_by",
    ]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="From", ordering="from_number")
    def masked_from(self, obj):
        return obj.masked_from

    @admin.action(description="Mark selected replies as handled")
    def mark_handled(self, request, queryset):
        for inbound in queryset:
            services.mark_inbound_handled(inbound, by=request.user)

    @admin.action(description="Mark selected replies as not handled")
    def mark_unhandled(self, request, queryset):
        for inbound in queryset:
            services.mark_inbound_handled(inbound, by=request.user, handled=False)


class OptOutEventInline(ReadOnlyMixin, admin.TabularInline):
    model = OptOutEvent
    fields = ["at", "action", "source", "keyword"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class OptOutForm(forms.ModelForm):
    class Meta:
        model = OptOut
        fields = ["number"]

    def clean_number(self):
        return services.number_key(normalise_mobile(self.cleaned_data["number"]))

    def validate_unique(self):
        pass  # a number that once opted back in may be opted out again: the service updates its row


@admin.register(OptOut)
class OptOutAdmin(NumberSearchMixin, admin.ModelAdmin):
    """Coordinators may add a number (someone asked in person); only the person can opt back in, by START."""

    number_field = "number"
    form = OptOutForm
    list_display = ["masked_number", "opted_out", "updated_at"]
    list_filter = ["opted_out", "updated_at"]
    show_full_result_count = False
    inlines = [OptOutEventInline]
    fields = ["number", "opted_out", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["number", "opted_out", "updated_at"] if obj else ["opted_out", "updated_at"]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # the history is the evidence that we honoured an opt-out

    @admin.display(description="Number", ordering="number")
    def masked_number(self, obj):
        return masked(obj.number)

    def save_model(self, request, obj, form, change):
        if change:
            return
        services.opt_out(obj.number, source=OptOutEvent.Source.COORDINATOR, keyword="")
        saved = OptOut.objects.get(number=services.number_key(obj.number))
        obj.pk, obj.number, obj.opted_out = saved.pk, saved.number, saved.opted_out
        messages.info(request, "Added to the opt-out list: no texts will go to this number.")

    def save_formset(self, request, form, formset, change):
        pass  # events are written by the service, not the inline


@admin.register(OptOutEvent)
class OptOutEventAdmin(NumberSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    number_field = "number"
    list_display = ["at", "masked_number", "action", "source", "keyword"]
    list_filter = ["action", "source", "at"]
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="Number", ordering="number")
    def masked_number(self, obj):
        return masked(obj.number)
