from django.contrib import admin

from config.permissions import is_coordinator


class CardvoteAdminSite(admin.AdminSite):
    site_header = "Cardvote administration"
    site_title = "Cardvote admin"
    index_title = "Data"

    def has_permission(self, request):
        # Staff status lets a user log in here; only coordinators may see anything.
        return request.user.is_active and request.user.is_staff and is_coordinator(request.user)
