"""The safety net behind every writer of a mobile, and erasure and retention of one record among several: an
opt-out keeps its number while any delegate or volunteer record holds the number, so matching by number (the
only matching SQL does) sees it."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from delegates.models import Delegate
from messaging import services as messaging
from messaging.models import OptOut, OptOutEvent
from messaging.privacy import number_hash
from privacy import erasure, retention, tasks
from tests.factories import ConferenceFactory, DelegateFactory, SmsConsentFactory
from tests.volunteers.support import LONDON, VolunteerFactory
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db
EVE = "+447700900777"
VAL = "+447700900555"


def erased_opt_out(number: str) -> OptOut:
    """A STOP from the number, then its owner's erasure: the opt-out keeps only the keyed hash."""
    messaging.opt_out(number, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    erasure.erase(plan=erasure.plan_erasure(lookup=erasure.find_person(query=number)), actor=None)
    row = OptOut.objects.get(number_hash=number_hash(number))
    assert row.number == ""
    return row


def test_the_beat_task_heals_a_mobile_written_behind_every_service_s_back(conference):
    eve = DelegateFactory(conference=conference, first_name="Eve", mobile=EVE)
    SmsConsentFactory(delegate=eve)
    row = erased_opt_out(EVE)
    back = DelegateFactory(conference=conference, first_name="Eve", mobile="")
    SmsConsentFactory(delegate=back)
    Delegate.objects.filter(pk=back.pk).update(mobile=EVE)  # no writer saw this: nothing re-linked
    VolunteerFactory(name="Val", mobile=VAL)
    other = erased_opt_out(VAL)
    Volunteer.objects.create(name="Val", mobile="+447700900556")
    Volunteer.objects.filter(name="Val", erased_at__isnull=True).update(mobile=VAL)
    assert Delegate.objects.textable().filter(pk=back.pk).exists()  # wrong until healed

    assert tasks.relink_opt_outs() == 2

    row.refresh_from_db(), other.refresh_from_db()
    assert (row.number, other.number) == (EVE, VAL)
    assert not Delegate.objects.textable().filter(pk=back.pk).exists()
    assert set(OptOutEvent.objects.filter(action=OptOutEvent.Action.RELINK).values_list("keyword", flat=True)) == {
        "sweep"
    }
    assert tasks.relink_opt_outs() == 0  # nothing left to heal


def test_the_beat_task_costs_one_query_when_no_opt_out_is_hash_only(conference, django_assert_num_queries):
    DelegateFactory.create_batch(3, conference=conference)
    messaging.opt_out(EVE, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    # 1: is any opt-out row hash-only? No: the mobiles are neither read nor hashed
    with django_assert_num_queries(1):
        assert tasks.relink_opt_outs() == 0


def test_the_beat_task_runs_every_five_minutes_on_the_default_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-relink-opt-outs"]
    assert entry["task"] == "privacy.tasks.relink_opt_outs" == tasks.relink_opt_outs.name
    assert (entry["schedule"], entry["options"]["queue"]) == (300.0, "default")


def test_erasing_one_record_keeps_the_opt_out_of_a_number_another_record_still_holds(conference):
    later = ConferenceFactory(slug="lab28", name="Labour Party Conference 2028", is_current=False)
    old = DelegateFactory(conference=conference, first_name="Eve", mobile=EVE)
    kept = DelegateFactory(conference=later, first_name="Eve", mobile=EVE)
    SmsConsentFactory(delegate=kept)
    messaging.opt_out(EVE, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    lookup = erasure.find_person(query=EVE)
    chosen = [r.key for r in lookup.records if r.kind == "delegate" and r.pk == old.pk]

    erasure.erase(plan=erasure.plan_erasure(lookup=lookup, keys=chosen), actor=None)

    assert Delegate.objects.get(pk=old.pk).erased_at is not None
    assert OptOut.objects.get().number == EVE
    assert not Delegate.objects.textable().filter(pk=kept.pk).exists()


def test_retention_keeps_the_opt_out_of_a_number_next_year_s_delegate_holds(conference):
    later = ConferenceFactory(
        slug="lab28", name="Labour Party Conference 2028", starts_on=dt.date(2028, 9, 24), ends_on=dt.date(2028, 9, 27),
        is_current=False,
    )  # fmt: skip
    with time_machine.travel(dt.datetime(2027, 9, 27, 12, tzinfo=LONDON), tick=False):
        DelegateFactory(conference=conference, first_name="Eve", mobile=EVE)
        messaging.opt_out(EVE, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
        gone = DelegateFactory(conference=conference, first_name="Gus", mobile="+447700900778")
        messaging.opt_out(gone.mobile, source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP")
    again = DelegateFactory(conference=later, first_name="Eve", mobile=EVE)
    SmsConsentFactory(delegate=again)

    with time_machine.travel(retention.retention_date(conference) + dt.timedelta(hours=4), tick=False):
        (run,) = retention.apply_retention()

    assert run.counts["delegates"] == 2
    assert set(OptOut.objects.values_list("number", flat=True)) == {EVE, ""}  # Gus's keeps only the hash
    assert not Delegate.objects.textable().filter(pk=again.pk).exists()
