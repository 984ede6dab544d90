"""Who may see what. Delegates, stances and phone numbers are coordinators-only (special category data)."""

from django.conf import settings
from django.contrib.auth.mixins import AccessMixin
from rest_framework.permissions import BasePermission


def is_coordinator(user) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    # Cached on the user object for the request, so a page asks the database once.
    if not hasattr(user, "_cardvote_is_coordinator"):
        user._cardvote_is_coordinator = user.groups.filter(name=settings.COORDINATORS_GROUP).exists()
    return user._cardvote_is_coordinator


class IsCoordinator(BasePermission):
    message = "Only coordinators may use the Cardvote API."

    def has_permission(self, request, view):
        return is_coordinator(request.user)


class CoordinatorRequiredMixin(AccessMixin):
    """Anonymous visitors are sent to log in; logged-in non-coordinators get 403."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_coordinator(request.user):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)
