"""Keyed hashes of phone numbers: what the opt-out list keeps of a number once its owner is erased.

A keyed HMAC (not a bare hash) because UK mobile numbers are few enough to hash them all: without the key a
hash would be reversible by brute force. The key comes from settings (`OPT_OUT_HASH_KEY`, defaulting to one
derived from SECRET_KEY); rotating it would make old hashes unmatchable, so production must keep it fixed.
"""

import hashlib
import hmac

from django.conf import settings


def _key() -> bytes:
    key = getattr(settings, "OPT_OUT_HASH_KEY", "") or f"cardvote-opt-out:{settings.SECRET_KEY}"
    return key.encode()


def number_hash(number: str) -> str:
    """HMAC-SHA256 hex digest of a number in E.164 (callers normalise first, e.g. with `services.number_key`)."""
    return hmac.new(_key(), (number or "").encode(), hashlib.sha256).hexdigest()


def number_hashes(numbers) -> dict[str, str]:
    """number_hash of each number, at about half the cost per number: the keyed state is built once and copied
    (a briefing hashes thousands)."""
    keyed = hmac.new(_key(), digestmod=hashlib.sha256)
    hashes = {}
    for number in numbers:
        digest = keyed.copy()
        digest.update((number or "").encode())
        hashes[number] = digest.hexdigest()
    return hashes


# --- Erasure ---------------------------------------------------------------------------------------------------------

# What a number becomes in the outbox, the inbox and the opt-out history once its owner is erased.
ERASED_NUMBER = "erased"


def erase_numbers(*, numbers, opt_out: bool = True, before=None, now=None) -> dict[str, int]:
    """Forget these numbers (E.164) across messaging, keeping the statistics and the promise not to text them.

    Texts still waiting (`queued`, or `held` in a paused briefing) become `skipped` with reason "erased" (rows
    locked first, so a worker's claim of one waits and then finds it gone); texts to and from the number keep
    their status, segments, cost and times but lose their body and the number (``ERASED_NUMBER``). With
    ``opt_out`` (erasure on request) the number goes on the opt-out list, so nothing is texted to it again (the
    worker checks the list again right before sending, for texts already claimed); retention passes False and
    only keeps existing opt-outs, and with ``before`` only texts written (or received) before that moment go: the
    same number may belong to someone at a later conference. Opt-out rows and their events then keep only the
    keyed hash. Numbers already forgotten count as nothing. Returns counts only.
    """
    from django.db import transaction
    from django.utils import timezone

    from messaging import services
    from messaging.errors import explain
    from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage, OutboundStatusChange

    numbers = sorted({n for n in numbers if n and n != ERASED_NUMBER})
    counts = {"texts_skipped": 0, "texts": 0, "replies": 0, "opt_out_events": 0}
    if not numbers:
        return counts
    now = now or timezone.now()
    skipped = OutboundMessage.Status.SKIPPED
    with transaction.atomic():
        outbox = OutboundMessage.objects.filter(to__in=numbers)
        inbox = InboundMessage.objects.filter(from_number__in=numbers)
        if before is not None:
            outbox, inbox = outbox.filter(created_at__lt=before), inbox.filter(received_at__lt=before)
        waiting = list(
            outbox.select_for_update()
            .filter(status__in=(OutboundMessage.Status.QUEUED, OutboundMessage.Status.HELD))
            .values_list("pk", "status")
        )
        if waiting:
            OutboundMessage.objects.filter(pk__in=[pk for pk, _ in waiting]).update(
                status=skipped, error_code="erased", error_message=explain("erased"), updated_at=now
            )
            OutboundStatusChange.objects.bulk_create(
                OutboundStatusChange(
                    message_id=pk, from_status=status, to_status=skipped, reason="erased", error_code="erased"
                )
                for pk, status in waiting
            )
        counts["texts_skipped"] = len(waiting)
        counts["opt_out_events"] = OptOutEvent.objects.filter(number__in=numbers).count()
        opted_out = services.opted_out_numbers(numbers)
        if opt_out:
            for number in numbers:
                if number not in opted_out:
                    services.opt_out(number, source=OptOutEvent.Source.COORDINATOR, keyword="ERASED")
        # The opt-out rows and their events keep only the keyed hash (blank number); sends match on the hash.
        # Only numbers still written somewhere there: retention passes thousands, most never opted out.
        listed = set(OptOut.objects.filter(number__in=numbers).values_list("number", flat=True))
        listed |= set(OptOutEvent.objects.filter(number__in=numbers).values_list("number", flat=True))
        for number in sorted(listed):
            services.forget_opt_out_number(number=number)
        counts["texts"] = outbox.update(to=ERASED_NUMBER, body="", updated_at=now)
        # Nobody can answer an erased person: their waiting replies leave the coordinators' inbox.
        inbox.filter(handled=False).update(handled=True, handled_at=now)
        counts["replies"] = inbox.update(from_number=ERASED_NUMBER, body="")
    return counts


def was_forgotten(number: str) -> bool:
    """Whether this number was erased before: the opt-out list holds its keyed hash with the number blanked."""
    from messaging.models import OptOut

    return OptOut.objects.filter(number="", number_hash=number_hash(number)).exists()


def numbers_texted_before(before) -> set[str]:
    """Every number we texted or heard from before this moment and have not forgotten yet (retention's sweep of
    numbers nobody holds as a delegate or volunteer: someone who only ever texted us)."""
    from messaging.models import InboundMessage, OutboundMessage

    sent = OutboundMessage.objects.filter(created_at__lt=before).exclude(to=ERASED_NUMBER).values_list("to", flat=True)
    received = (
        InboundMessage.objects.filter(received_at__lt=before)
        .exclude(from_number=ERASED_NUMBER)
        .values_list("from_number", flat=True)
    )
    return set(sent.distinct()) | set(received.distinct())
