"""Development: print the text instead of sending it, and call it sent."""

import sys

from messaging.backends.base import BaseBackend, RequestLeft, SendResult
from messaging.phones import masked


class ConsoleBackend(BaseBackend):
    name = "console"

    def send(self, message, *, left: RequestLeft = None) -> SendResult:
        if left:
            left()
        stream = sys.stdout
        stream.write(f"--- SMS {message.pk} to {masked(message.to)} ({message.segments} segment(s)) ---\n")
        stream.write(f"{message.body}\n---\n")
        stream.flush()
        return SendResult(sid=f"CONSOLE{message.pk}", status="sent", segments=message.segments)
