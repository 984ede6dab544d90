"""Who may see what: ONE rule, used by pages, the API, the admin and the API docs.

A coordinator is an active user who is either a superuser, or staff AND in the `coordinators` group.
Delegates, stances and phone numbers are coordinators-only (special category data).

- Pages: `CoordinatorRequiredMixin` (anonymous → login, anyone else → 403). `CoordinatorRequiredMiddleware`
  applies the same rule to every view by default, so a page that forgets the mixin is still closed.
- API: `IsCoordinator` (DRF's default permission class in settings).
- Admin: `config.admin.CardvoteAdminSite.has_permission` calls `is_coordinator`.
- Public views (no login: health check, login, Twilio webhooks, volunteers' sign-up pages, private links) are
  opted out explicitly: Django's `@login_not_required` on the view, or its URL name in `PUBLIC_URL_NAMES`.
"""

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.utils.cache import add_never_cache_headers
from rest_framework.permissions import BasePermission


def is_coordinator(user) -> bool:
    """The coordinator rule. Cached on the user object for the request, so a page asks the database once."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if not user.is_staff:
        return False
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


def is_public(resolver_match) -> bool:
    """Named in settings.PUBLIC_URL_NAMES, or marked with Django's @login_not_required (LoginView, admin login).

    DRF marks every API view login_not_required too; those are not public: IsCoordinator guards them.
    """
    if resolver_match.view_name in settings.PUBLIC_URL_NAMES:
        return True
    return not getattr(resolver_match.func, "login_required", True) and not is_api_view(resolver_match.func)


def is_api_view(view_func) -> bool:
    # DRF authenticates tokens inside the view, so IsCoordinator decides there (401/403, never a login redirect).
    from rest_framework.views import APIView  # imported late: DRF's settings import this module

    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


class CoordinatorRequiredMiddleware(LoginRequiredMiddleware):
    """Closed by default: every view outside the public allow-list needs a coordinator.

    Sits before CsrfViewMiddleware, so its check runs before anything reads the request body: an anonymous
    upload is answered with a redirect without its body being read. Pages are never stored by a browser or
    proxy (`Cache-Control: no-store`) unless their view sets its own Cache-Control.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_api_view(view_func) or is_public(request.resolver_match):
            return None
        if not request.user.is_authenticated:
            return self.handle_no_permission(request, view_func)
        if not is_coordinator(request.user):
            raise PermissionDenied
        return None

    def process_response(self, request, response):
        # Every page rendered by a view: coordinator pages, API responses and volunteers' private-link pages hold
        # personal data. A view that wants caching says so itself (its own Cache-Control is kept); static files
        # are answered by WhiteNoise before this middleware.
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
