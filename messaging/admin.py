"""Admin for the outbox, replies and opt-outs: all of it is evidence, read-only for everyone (EvidenceAdminMixin).

Statuses change only through messaging.services, which write history. A coordinator opts a number out (someone
asked in person) from the replies pages (/messages/number/), which call the service.

Lists show masked numbers; search takes a number as people type it (07…, +44 7…) and finds it exactly.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError

from config.admin import EvidenceAdminMixin
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


class OutboundStatusChangeInline(EvidenceAdminMixin, admin.TabularInline):
    model = OutboundStatusChange
    fields = ["at", "from_status", "to_status", "reason", "error_code"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(NumberSearchMixin, EvidenceAdminMixin, admin.ModelAdmin):
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
class OutboundStatusChangeAdmin(EvidenceAdminMixin, admin.ModelAdmin):
    list_display = ["at", "message_id", "from_status", "to_status", "reason", "error_code"]
    list_filter = ["to_status", "at"]
    search_fields = ["=message__id", "message__idempotency_key", "error_code"]
    list_per_page = 100
    show_full_result_count = False


@admin.register(InboundMessage)
class InboundMessageAdmin(NumberSearchMixin, EvidenceAdminMixin, admin.ModelAdmin):
    """A STOP is evidence. Only "handled" changes, through the service that records who and when."""

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


class OptOutEventInline(EvidenceAdminMixin, admin.TabularInline):
    model = OptOutEvent
    fields = ["at", "action", "source", "keyword"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(OptOut)
class OptOutAdmin(NumberSearchMixin, EvidenceAdminMixin, admin.ModelAdmin):
    """The current state per number; its events are the evidence that we honoured an opt-out."""

    number_field = "number"
    list_display = ["masked_number", "opted_out", "updated_at"]
    list_filter = ["opted_out", "updated_at"]
    show_full_result_count = False
    inlines = [OptOutEventInline]
    # The raw number stays off the page: it is found by search, shown masked.
    fields = ["masked_number", "opted_out", "updated_at"]
    readonly_fields = fields

    @admin.display(description="Number", ordering="number")
    def masked_number(self, obj):
        return masked(obj.number)


@admin.register(OptOutEvent)
class OptOutEventAdmin(NumberSearchMixin, EvidenceAdminMixin, admin.ModelAdmin):
    number_field = "number"
    list_display = ["at", "masked_number", "action", "source", "keyword"]
    list_filter = ["action", "source", "at"]
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="Number", ordering="number")
    def masked_number(self, obj):
        return masked(obj.number)
