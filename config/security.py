"""Login lockout (django-axes) and API throttling (DRF) helpers: who the client is, and what a log line says.

The client's address is REMOTE_ADDR, unless CLIENT_IP_HEADER names a header our own proxy sets: a header a
client could send itself is never trusted unless configured, or anyone could dodge a lockout by inventing one.
"""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def client_ip(request) -> str:
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        # X-Forwarded-For is "client, proxy1, ...": the right-most entry is the one our proxy appended.
        candidate = value.split(",")[-1].strip()
        if candidate:
            return candidate
    return request.META.get("REMOTE_ADDR", "")


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """What axes logs about a failed login: the address and path only; never the password, nor the username
    (often a person's name). The attempt rows in the database keep the username for a superuser to see."""
    return f"client {ip_address} on {path_info}"


class AnonThrottle(AnonRateThrottle):
    """Per anonymous client, by the same address the login lockout uses; counts live in the shared cache."""

    def get_ident(self, request):
        return client_ip(request)


class UserThrottle(UserRateThrottle):
    """Per user (a personal token is its user's), in the shared cache: every process and machine counts together."""
