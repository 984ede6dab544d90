"""Reads over the outbox for other pages (the dashboard, /healthz). Writes live in messaging.services."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone

from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage, OutboundStatusChange

# A text due this long ago and still `queued` is stuck: no worker is taking it (none running, or none on
# the `sms` queue). The sweeper re-queues lost tasks within about two minutes, so five is well past normal.
STUCK_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class StuckOutbox:
    count: int
    oldest_seconds: int  # how long the oldest stuck text has been due; 0 when none

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def oldest_minutes(self) -> int:
        return self.oldest_seconds // 60

    def describe(self) -> str:
        if not self.count:
            return "no texts stuck in the queue"
        texts = "text has" if self.count == 1 else "texts have"
        return (
            f"{self.count} {texts} waited in the queue for more than {int(STUCK_AFTER.total_seconds() // 60)} "
            f"minutes (oldest: {self.oldest_minutes} min). Is a Celery worker running? "
            "Start one with `celery -A config worker`."
        )


def campaign_texts_written():
    """Campaign texts written and not skipped: once a number has one, its later texts leave out the privacy
    notice line (services.send_sms / send_batch; a briefing's preview counts the same way)."""
    return OutboundMessage.objects.filter(marketing=True).exclude(status=OutboundMessage.Status.SKIPPED)


def stuck_outbox(*, now=None, older_than: timedelta = STUCK_AFTER) -> StuckOutbox:
    """Texts `queued` for longer than ``older_than`` and due now: one aggregate query.

    "Queued since" is ``updated_at``: every status change sets it, while the sweeper's re-queue moves only
    ``next_attempt_at`` (so a text the sweeper keeps re-queuing for a worker that never comes still counts).
    """
    now = now or timezone.now()
    row = OutboundMessage.objects.filter(
        status=OutboundMessage.Status.QUEUED, next_attempt_at__lte=now, updated_at__lte=now - older_than
    ).aggregate(count=Count("pk"), oldest=Min("updated_at"))
    oldest = row["oldest"]
    return StuckOutbox(count=row["count"], oldest_seconds=int((now - oldest).total_seconds()) if oldest else 0)


# --- Subject access (privacy composes these; each returns (title, queryset) pairs) ----------------------------
def personal_data_of_number(number: str) -> list[tuple[str, object]]:
    """Everything held under one E.164 number: texts both ways, their delivery, the opt-out and its events."""
    return [
        ("Texts sent to the number", OutboundMessage.objects.filter(to=number).order_by("created_at", "pk")),
        (
            "Delivery history of those texts",
            OutboundStatusChange.objects.filter(message__to=number).order_by("at", "pk"),
        ),
        ("Texts received from the number", InboundMessage.objects.filter(from_number=number).order_by("received_at")),
        ("Opt-out", OptOut.objects.filter(number=number)),
        ("Opt-outs and opt-ins", OptOutEvent.objects.filter(number=number).order_by("at", "pk")),
    ]
