"""Drill: people erased while their briefing is being sent by real workers get nothing more from Twilio.

Two Celery workers on the drill's own redis-server send a 40-text briefing to the fake Twilio at 5 texts a
second; once five have gone, ten of the recipients are erased one by one. Every text to an erased number that
reached Twilio must have left before that person's erasure committed; each of their remaining texts ends
`skipped` ("erased"); everyone else gets exactly one text.
"""

import time

from django.db import transaction

from messaging.models import OutboundMessage
from messaging.services import BatchText, send_batch
from privacy import erasure
from tests.factories import CoordinatorFactory, DelegateFactory, SmsConsentFactory
from tests.support.drills import DRILL_MARKS, assert_each_recipient_got_exactly_one, recipient

pytestmark = DRILL_MARKS
# A provider call that began (after the worker's last check) just before the erasure committed may arrive a
# moment after it: the network call is never made inside a transaction, so that instant cannot be locked out.
IN_FLIGHT_ALLOWANCE = 0.25


def test_nothing_reaches_twilio_for_people_erased_during_a_briefing_send(drill, conference):
    numbers = range(700, 740)
    erased = list(numbers[-20::2])  # ten people, late in the audience: most are still waiting
    # Real delegates with consent: the worker processes check it again just before each text leaves.
    for n in numbers:
        SmsConsentFactory(delegate=DelegateFactory(conference=conference, mobile=recipient(n)))
    dpo = CoordinatorFactory(username="dpo")
    drill.twilio.latency = 0.02
    with drill.workers("erase-a", "erase-b", rate=5) as workers:
        with transaction.atomic():
            result = send_batch(
                [BatchText(to=recipient(n), body=f"Vote FOR, {n}", key=f"briefing:9:delegate:{n}") for n in numbers],
                purpose="briefing",
            )
        assert drill.twilio.wait_for_sends(5, timeout=30), drill.report(result.queued, workers)
        committed_at = {}
        for n in erased:
            lookup = erasure.find_person(query=recipient(n))
            erasure.erase(plan=erasure.plan_erasure(lookup=lookup), actor=dpo)
            committed_at[recipient(n)] = time.time()
        drill.settle(result.queued, timeout=60)
        kept = [n for n in numbers if n not in erased]
        sends = drill.twilio.sends()
        late = [(r.to, round(r.at - committed_at[r.to], 3)) for r in sends if r.to in committed_at]
        late = [(to, after) for to, after in late if after > IN_FLIGHT_ALLOWANCE]
        assert late == [], f"texts reached Twilio after their recipient was erased: {late}"
        outbox = OutboundMessage.objects.filter(pk__in=result.queued)
        kept_ids = list(outbox.exclude(error_code="erased").values_list("pk", flat=True))
        sent_to_erased = {r.to for r in sends if r.to in committed_at}
        assert_each_recipient_got_exactly_one(
            drill, kept + [n for n in erased if recipient(n) in sent_to_erased], kept_ids, workers
        )
    skipped = OutboundMessage.objects.filter(pk__in=result.queued, error_code="erased")
    assert skipped.count() == len(erased) - len(sent_to_erased) > 0
    assert set(skipped.values_list("status", "to", "body")) == {("skipped", "erased", "")}
