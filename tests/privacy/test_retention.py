"""Retention: a conference's personal data goes `retention_days` after it ends, by a daily beat task; a dry run
lists what would go. Time is frozen: the test conference ends on Wednesday 29 September 2027."""

import datetime as dt
import io

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from delegates.models import Conference, Delegate
from lobbying import selectors
from lobbying import services as lobbying_services
from lobbying.models import Level, StanceChange
from messaging import services as messaging_services
from messaging.models import InboundMessage, OptOut, OutboundMessage
from messaging.privacy import ERASED_NUMBER
from privacy import retention, tasks
from privacy.models import AuditEvent
from tests.factories import ConferenceFactory, DelegateFactory, OrganisationFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)
from tests.volunteers.support import LONDON, ShiftFactory, VolunteerFactory, at
from volunteers import services as volunteer_services
from volunteers.models import Signup, Volunteer

pytestmark = pytest.mark.django_db
DURING = at(27, 12)
# 29 Sep + 1 day + 90 days: midnight at the start of 29 December 2027, London time.
DUE = dt.datetime(2027, 12, 29, 0, 0, tzinfo=LONDON)
ADA, LEE, VAL, STRANGER = "+447700900101", "+447700900102", "+447700900201", "+447700900901"


@pytest.fixture
def held(conference, sms):
    """During the conference: delegates with stances and notes, a volunteer on a shift, texts both ways."""
    with time_machine.travel(DURING, tick=False):
        motion = lobbying_services.create_motion(conference=conference, title="Scrap the cap", text="Conference...")
        clp = OrganisationFactory(name="Wirral West", membership=1000)
        ada = DelegateFactory(conference=conference, organisation=clp, first_name="Ada", mobile=ADA, notes="Keen")
        lee = DelegateFactory(conference=conference, organisation=clp, first_name="Lee", mobile=LEE)
        lobbying_services.record_stance(
            delegate=ada, motion=motion, level=Level.FOR, source=StanceChange.Source.CONVERSATION, note="Will speak"
        )
        lobbying_services.record_stance(delegate=lee, motion=motion, level=Level.AGAINST, source="coordinator")
        lobbying_services.create_assignment(
            motion=motion, volunteer_name="Val Jones", volunteer_mobile=VAL, delegates=[ada], ask="Ask them."
        )
        shift = ShiftFactory(conference=conference, starts_at=at(28, 9))
        val = VolunteerFactory(name="Val Jones", mobile=VAL, email="val@example.org")
        volunteer_services.sign_up(shift=shift, volunteer=val, source="public")
        messaging_services.send_sms(to=ADA, body="Vote FOR composite 3", key="b1", purpose="briefing")
        messaging_services.receive_inbound(from_number=STRANGER, to_number="+447700900999", body="Who is this?",
                                           provider_sid="SM1")  # fmt: skip
        messaging_services.opt_out(LEE, source="sms_keyword", keyword="STOP")
    return {"motion": motion, "ada": ada, "lee": lee, "val": val, "shift": shift}


def whip(conference, motion):
    return selectors.whip_counts(conference=conference, motions=[motion])


def test_nothing_goes_before_the_retention_date(conference, held):
    assert retention.retention_date(conference) == DUE
    with time_machine.travel(DUE - dt.timedelta(seconds=1), tick=False):
        assert retention.apply_retention() == []
    assert Delegate.objects.filter(first_name="Ada").exists()


def test_after_the_retention_date_the_conference_is_anonymised_and_reported(conference, held):
    before = whip(conference, held["motion"])
    with time_machine.travel(DUE + dt.timedelta(hours=3), tick=False):
        (run,) = retention.apply_retention()

    assert run.conference == conference
    assert run.counts["delegates"] == 2 and run.counts["volunteers"] == 1
    assert run.counts["stance_notes"] == 1 and run.counts["assignments"] == 1
    # The briefing to Ada and Val's sign-up confirmation; the stranger's text (no record holds the number).
    assert run.counts["texts"] == 2 and run.counts["replies"] == 1
    assert whip(conference, held["motion"]) == before
    assert set(Delegate.objects.values_list("first_name", "mobile", "notes")) == {("", "", "")}
    assert set(StanceChange.objects.values_list("note", flat=True)) == {""}
    val = Volunteer.objects.get()
    assert (val.name, val.email, val.erased_at is not None) == ("", "", True)
    assert Signup.objects.get().status == Signup.Status.CONFIRMED  # a past shift keeps its count
    assert set(OutboundMessage.objects.values_list("to", "body")) == {(ERASED_NUMBER, "")}
    assert set(InboundMessage.objects.values_list("from_number", "body")) == {(ERASED_NUMBER, "")}
    # Lee's STOP still holds, by the hash only.
    assert OptOut.objects.get().number == "" and messaging_services.is_opted_out(LEE)
    assert not messaging_services.is_opted_out(ADA)  # retention is not an opt-out
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.count) == ("retention", None, 3)
    assert event.detail["conference"] == conference.pk
    assert "Ada" not in str(event.detail) and "Val" not in event.what


def test_running_twice_does_nothing_the_second_time(conference, held):
    with time_machine.travel(DUE + dt.timedelta(days=1), tick=False):
        retention.apply_retention()
        (again,) = retention.apply_retention()
    assert again.total == 0
    assert AuditEvent.objects.count() == 1


def test_the_dry_run_lists_what_would_go_and_changes_nothing(conference, held):
    out = io.StringIO()
    with time_machine.travel(DUE + dt.timedelta(days=1), tick=False):
        call_command("retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Labour Party Conference 2027" in text and "would anonymise" in text
    assert "2  delegate records" in text and "1  volunteer records" in text
    assert Delegate.objects.filter(first_name="Ada").exists() and not AuditEvent.objects.exists()
    assert OutboundMessage.objects.filter(to=ADA).exists()


def test_the_command_says_when_each_conference_is_kept_until(conference):
    out = io.StringIO()
    with time_machine.travel(DURING, tick=False):
        call_command("retention", stdout=out)
    assert "No conference is past its retention date." in out.getvalue()
    assert "kept until 2027-12-29" in out.getvalue()


def test_a_shorter_retention_period_brings_the_date_forward(conference, held):
    Conference.objects.filter(pk=conference.pk).update(retention_days=7)
    with time_machine.travel(dt.datetime(2027, 10, 7, 1, 0, tzinfo=LONDON), tick=False):
        (run,) = retention.apply_retention()
    assert run.counts["delegates"] == 2


def test_a_later_conference_keeps_its_people_and_their_texts(conference, held, sms):
    """The same mobile at next year's conference: its new texts and that delegate stay."""
    later = ConferenceFactory(
        slug="lab28", name="Labour Party Conference 2028", starts_on=dt.date(2028, 9, 24), ends_on=dt.date(2028, 9, 27),
        is_current=False,
    )  # fmt: skip
    with time_machine.travel(DUE + dt.timedelta(days=1), tick=False):
        again = DelegateFactory(conference=later, first_name="Ada", mobile=ADA)
        keeps_volunteering = VolunteerFactory(name="Kim Keen", mobile="+447700900202")
        volunteer_services.sign_up(shift=held["shift"], volunteer=keeps_volunteering, source="public", now=DURING)
        next_shift = ShiftFactory(conference=later, starts_at=dt.datetime(2028, 9, 25, 9, tzinfo=LONDON))
        volunteer_services.sign_up(shift=next_shift, volunteer=keeps_volunteering, source="public")
        new_text = messaging_services.send_sms(to=ADA, body="See you in 2028", key="b2", purpose="briefing")
        (run,) = retention.apply_retention()
    again.refresh_from_db(), new_text.refresh_from_db(), keeps_volunteering.refresh_from_db()
    assert again.first_name == "Ada" and again.mobile == ADA
    assert (new_text.to, new_text.body) != (ERASED_NUMBER, "")
    assert keeps_volunteering.name == "Kim Keen"
    assert run.counts["texts"] >= 1  # the 2027 text to Ada went


def test_the_beat_task_runs_daily_and_reports_counts_only(conference, held):
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == "privacy.tasks.apply_retention"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {15})
    with time_machine.travel(DUE + dt.timedelta(hours=4), tick=False):
        result = tasks.apply_retention()
    assert result[conference.pk]["delegates"] == 2
