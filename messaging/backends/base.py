"""What every SMS backend offers, and the three ways a send can fail."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

# What `send` calls once its request has left for the provider (the rate limiter's window starts then).
RequestLeft = Callable[[], None] | None


class SendError(Exception):
    def __init__(self, code: str | int | None = "", message: str = ""):
        self.code = "" if code is None else str(code)
        self.message = message
        super().__init__(f"{self.code} {message}".strip())


class TransientSendError(SendError):
    """The provider did not take the message (429, connection refused): safe to retry later."""


class PermanentSendError(SendError):
    """The provider refused the message for good (invalid number, not a mobile, unsubscribed): never retry."""


class UnknownOutcomeError(SendError):
    """We cannot tell whether the provider took it (timeout, 5xx): never re-send without asking first."""


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str = "queued"  # as the provider says it
    segments: int | None = None


class BaseBackend:
    name = "base"

    def send(self, message, *, left: RequestLeft = None) -> SendResult:
        """Hand the text to the provider. ``left`` is called once the request has been written, before the
        answer is awaited (at once for a backend without a network); not at all if it never left."""
        raise NotImplementedError

    def find_sent(self, to: str, since: datetime) -> list[tuple[str, str]]:
        """(sid, provider status) of messages the provider holds for `to` since `since`."""
        return []
