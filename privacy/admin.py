from django.contrib import admin

from config.admin import EvidenceAdminMixin
from privacy.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(EvidenceAdminMixin, admin.ModelAdmin):
    list_display = ("at", "action", "what", "count", "actor")
    list_filter = ("action",)
    date_hierarchy = "at"
