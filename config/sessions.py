"""Idle expiry for sessions: a session lasts SESSION_COOKIE_AGE from the coordinator's last request, not from login.

Django moves the expiry forward only when a session is saved. SESSION_SAVE_EVERY_REQUEST would save (an UPDATE)
on every page and API call; this saves at most once every SESSION_REFRESH_SECONDS per session, so a session
expires between AGE and AGE + REFRESH after the last request.
"""

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

REFRESHED_AT = "_cardvote_refreshed_at"


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session this request already loaded (a signed-in user's): never a query for an anonymous page.
        if session is None or not session.accessed or session.is_empty() or not session.session_key:
            return response
        now = int(time.time())
        refreshed_at = session.get(REFRESHED_AT)
        if not isinstance(refreshed_at, int) or now - refreshed_at >= settings.SESSION_REFRESH_SECONDS:
            session[REFRESHED_AT] = now  # marks it modified: SessionMiddleware saves it with a new expiry
        return response


@receiver(user_logged_in)
def mark_session_fresh_at_login(sender, request, user, **kwargs):
    """Logging in saves the session anyway: stamp it then, so the next request does not save it again."""
    if request is not None and hasattr(request, "session"):
        request.session[REFRESHED_AT] = int(time.time())
