"""SMS backends, chosen by settings.SMS_BACKEND (the anymail pattern): console, locmem, twilio."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from messaging.backends.base import (
    BaseBackend,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
    UnknownOutcomeError,
)

__all__ = [
    "BaseBackend",
    "PermanentSendError",
    "SendError",
    "SendResult",
    "TransientSendError",
    "UnknownOutcomeError",
    "get_backend",
]


def get_backend(name: str | None = None) -> BaseBackend:
    name = name or settings.SMS_BACKEND
    if name == "console":
        from messaging.backends.console import ConsoleBackend

        return ConsoleBackend()
    if name == "locmem":
        from messaging.backends.locmem import LocmemBackend

        return LocmemBackend()
    if name == "twilio":
        from messaging.backends.twilio import TwilioBackend

        return TwilioBackend()
    raise ImproperlyConfigured(f"SMS_BACKEND must be one of console, locmem, twilio (got {name!r}).")
