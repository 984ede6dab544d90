"""Tests: keep sent texts in memory (process-local, like django.core.mail.outbox) and play scripted failures.

from messaging.backends import locmem
locmem.reset()
locmem.script(TransientSendError(429, "Too many requests"))   # the next send raises this
...
assert [m.to for m in locmem.outbox] == ["+447700900001"]
"""

import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from messaging.backends.base import BaseBackend, RequestLeft, SendError, SendResult


@dataclass
class SentSMS:
    sid: str
    message_id: int
    to: str
    body: str
    segments: int
    at: datetime = field(default_factory=timezone.now)
    status: str = "queued"


outbox: list[SentSMS] = []
_scripted: deque = deque()
_lock = threading.Lock()
_sids = itertools.count(1)


def reset() -> None:
    with _lock:
        outbox.clear()
        _scripted.clear()


def script(*outcomes: SendError | SendResult) -> None:
    """Queue outcomes for the next sends: an exception is raised (nothing recorded), a SendResult returned."""
    with _lock:
        _scripted.extend(outcomes)


class LocmemBackend(BaseBackend):
    name = "locmem"

    def send(self, message, *, left: RequestLeft = None) -> SendResult:
        with _lock:
            outcome = _scripted.popleft() if _scripted else None
            if isinstance(outcome, SendError):
                raise outcome
            if left:
                left()
            sid = outcome.sid if isinstance(outcome, SendResult) else f"SMLOCMEM{next(_sids):08d}"
            outbox.append(
                SentSMS(sid=sid, message_id=message.pk, to=message.to, body=message.body, segments=message.segments)
            )
        return outcome or SendResult(sid=sid, status="queued", segments=message.segments)

    def find_sent(self, to: str, since: datetime) -> list[tuple[str, str]]:
        with _lock:
            return [(m.sid, m.status) for m in outbox if m.to == to and m.at >= since]
