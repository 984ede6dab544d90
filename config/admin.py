from django.contrib import admin

from config.permissions import is_coordinator


class CardvoteAdminSite(admin.AdminSite):
    site_header = "Cardvote administration"
    site_title = "Cardvote admin"
    index_title = "Data"

    def has_permission(self, request):
        # The one coordinator rule (config/permissions.py): the same people as the pages and the API.
        return is_coordinator(request.user)


class EvidenceAdminMixin:
    """Evidence (consent, opt-outs, texts and their status history, stance and sign-up history) is read-only here
    for everyone, superusers too: no add, no change, no delete, no bulk delete. It changes only through its
    app's services, which write history. Use on ModelAdmins and inlines alike:

        @admin.register(StanceChange)
        class StanceChangeAdmin(EvidenceAdminMixin, admin.ModelAdmin): ...

    Actions that call a service (e.g. "mark handled") stay available: they need only the view permission.
    """

    can_delete = False  # inlines
    extra = 0  # inlines
    max_num = 0  # inlines: no empty "add another" rows

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
