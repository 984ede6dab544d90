"""The SMS outbox, inbound replies and the opt-out list.

Status fields change only through messaging.services and messaging.tasks, which also write the history rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from messaging.phones import masked
from messaging.text import estimate_cost


class OutboundMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        # Paused with its batch (hold_batch): no worker can claim it until release_batch puts it back in the queue.
        HELD = "held", "Held (paused)"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Outcome unknown"
        SKIPPED = "skipped", "Skipped"

    idempotency_key = models.CharField(
        max_length=200, unique=True, help_text="Who and why, e.g. briefing:12:delegate:345. Sending twice is a no-op."
    )
    to = models.CharField(max_length=16, help_text="E.164")
    body = models.TextField(help_text="The text exactly as sent, with sender name and opt-out line.")
    purpose = models.CharField(max_length=60)
    # The batch it was queued with (e.g. "briefing:12"): pause, resume and cancel act on a whole batch.
    batch = models.CharField(max_length=60, blank=True, default="")
    marketing = models.BooleanField(default=True)
    # Only replies to STOP / START / HELP: the person texted us and expects an answer.
    opt_out_exempt = models.BooleanField(default=False)
    consent_basis = models.CharField(
        max_length=200,
        blank=True,
        help_text="The consent a campaign text relied on, or why it had none; transactional texts say so.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    useless_after = models.DateTimeField(null=True, blank=True, help_text="Not worth sending after this time.")
    provider_sid = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker claimed it.")
    segments = models.PositiveSmallIntegerField(default=1)
    encoding = models.CharField(max_length=8, default="GSM-7")
    # When the row is next due to be picked up (creation, a retry's backoff, or the sweeper's re-queue).
    next_attempt_at = models.DateTimeField(default=timezone.now, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweeper: queued rows by due time, stale sending/unknown rows by claim time.
            models.Index(fields=["status", "next_attempt_at"], name="outbound_status_due"),
            models.Index(fields=["status", "claimed_at"], name="outbound_status_claimed"),
            # "Rows claimed recently" for the sweeper's overtaken check.
            models.Index(fields=["claimed_at"], name="outbound_claimed"),
            # Per-number history and the "which text is this a reply to" lookup.
            models.Index(fields=["to", "-created_at"], name="outbound_to_recent"),
            models.Index(fields=["purpose", "status"], name="outbound_purpose_status"),
            # hold/release/cancel a batch, and "is any text of this briefing still open?".
            models.Index(fields=["batch", "status"], name="outbound_batch_status", condition=~Q(batch="")),
        ]
        constraints = [
            # Status callbacks that lack our ?message= id are matched on the SID.
            models.UniqueConstraint(fields=["provider_sid"], condition=~Q(provider_sid=""), name="outbound_unique_sid"),
        ]

    def __str__(self):
        return f"SMS {self.pk} to {masked(self.to)} ({self.status})"

    @property
    def masked_to(self) -> str:
        return masked(self.to)

    @property
    def cost_estimate(self):
        return estimate_cost(self.segments)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        OutboundMessage.Status.DELIVERED,
        OutboundMessage.Status.UNDELIVERED,
        OutboundMessage.Status.FAILED,
        OutboundMessage.Status.SKIPPED,
    }
)


# Not settled yet: waiting (or paused), with a worker, or in doubt. Everything else has been handed to the
# provider or will never be sent; a briefing is done when none of its texts is open.
OPEN_STATUSES = frozenset(
    {
        OutboundMessage.Status.QUEUED,
        OutboundMessage.Status.HELD,
        OutboundMessage.Status.SENDING,
        OutboundMessage.Status.UNKNOWN,
    }
)


class OutboundBatch(models.Model):
    """Whether a batch may go on sending: read by the worker just before each provider call, so a text of a
    paused or cancelled batch that comes back to the queue (a retry, an unknown outcome re-queued) is held or
    skipped there instead of sent. Written only by messaging.services (hold/release/cancel_batch)."""

    class State(models.TextChoices):
        OPEN = "open", "Sending"
        HELD = "held", "Paused"
        CANCELLED = "cancelled", "Cancelled"

    label = models.CharField(max_length=60, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.label} ({self.state})"


class OutboundStatusChange(models.Model):
    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class InboundMessage(models.Model):
    from_number = models.CharField(max_length=32, help_text="E.164 when it parses; as received otherwise.")
    to_number = models.CharField(max_length=32, blank=True)
    body = models.TextField(blank=True)
    provider_sid = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    purpose = models.CharField(max_length=60, blank=True, help_text="The purpose of the text this replies to.")
    in_reply_to = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    keyword = models.CharField(max_length=16, blank=True, help_text="STOP, START or HELP when it was one.")
    looks_like_opt_out = models.BooleanField(
        default=False, help_text="Asks to stop in plain words inside a longer text: a coordinator decides."
    )
    handled = models.BooleanField(default=False)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["from_number", "-received_at"], name="inbound_from_recent"),
            # The coordinators' inbox: unhandled replies first.
            models.Index(fields=["handled", "-received_at"], name="inbound_handled_recent"),
            # The inbox puts likely opt-out requests at the top of the waiting replies.
            models.Index(
                fields=["handled", "-looks_like_opt_out", "-received_at"], name="inbound_handled_optout_recent"
            ),
        ]
        constraints = [
            # Twilio retries a webhook it thinks failed: one row per SID.
            models.UniqueConstraint(fields=["provider_sid"], condition=~Q(provider_sid=""), name="inbound_unique_sid"),
        ]

    def __str__(self):
        return f"Reply {self.pk} from {masked(self.from_number)}"

    @property
    def masked_from(self) -> str:
        return masked(self.from_number)


class OptOut(models.Model):
    """Our own suppression list: honoured whatever the provider does, until the person texts START."""

    number = models.CharField(max_length=32, blank=True, help_text="E.164; blank once its owner was erased.")
    # Keyed HMAC of the number (messaging.privacy.number_hash): what stays of it after erasure, so an erased
    # person who opted out is still never texted. The send paths match on it as well as on the number.
    number_hash = models.CharField(max_length=64, unique=True)
    opted_out = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = "opt-out"
        constraints = [
            # Erased rows all have a blank number; a number still known is on the list once.
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="optout_unique_number"),
        ]

    def __str__(self):
        return f"{masked(self.number)}: {'opted out' if self.opted_out else 'opted in'}"

    def save(self, *args, **kwargs):
        if not self.number_hash and self.number:  # a row made outside services._set_opt_out (tests, shell)
            from messaging.privacy import number_hash

            self.number_hash = number_hash(self.number)
        super().save(*args, **kwargs)


class OptOutEvent(models.Model):
    class Action(models.TextChoices):
        OPT_OUT = "opt_out", "Opted out"
        OPT_IN = "opt_in", "Opted back in"
        # Erasure had blanked the number on the row; a delegate or volunteer record holds it again, so the
        # opt-out is that person's data again (messaging.services.relink_opt_outs). Not a new opt-out.
        RELINK = "relink", "Number held again"

    class Source(models.TextChoices):
        SMS_KEYWORD = "sms_keyword", "Texted a keyword"
        TWILIO_21610 = "twilio_21610", "Twilio reported the number unsubscribed (21610)"
        COORDINATOR = "coordinator", "A coordinator"
        INBOX = "inbox", "A coordinator, from a reply asking to stop"
        RECORD = "record", "A delegate or volunteer record with the number"

    opt_out = models.ForeignKey(OptOut, on_delete=models.CASCADE, related_name="events")
    number = models.CharField(max_length=32, db_index=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    at = models.DateTimeField(auto_now_add=True)
    keyword = models.CharField(max_length=40, blank=True, help_text="The word they texted, e.g. STOP.")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "opt-out event"

    def __str__(self):
        return f"{masked(self.number)} {self.get_action_display()}"
