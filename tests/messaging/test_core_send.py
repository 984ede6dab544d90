import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from messaging import services
from messaging.models import OptOutEvent, OutboundMessage, OutboundStatusChange
from messaging.text import privacy_line
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("everyone_consents")]
NUMBER = "+447700900001"


def test_sending_twice_with_the_same_key_makes_one_row_and_queues_one_task(sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = services.send_sms(to="07700 900001", body="Vote FOR composite 3", key="briefing:1:d:1", purpose="b")
        second = services.send_sms(to="+44 7700 900001", body="Vote FOR composite 3", key="briefing:1:d:1", purpose="b")
    assert first.pk == second.pk
    assert OutboundMessage.objects.count() == 1
    assert len(callbacks) == 1
    assert sms.queued == [first.pk]


def test_a_text_is_queued_only_when_the_callers_transaction_commits(sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = services.send_sms(to=NUMBER, body="Hello", key="k1", purpose="test")
    assert sms.queued == []  # written, but not yet queued
    callbacks[0]()
    assert sms.queued == [message.pk]


def test_a_rolled_back_caller_queues_nothing(sms, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.send_sms(to=NUMBER, body="Hello", key="k1", purpose="test")
        raise RuntimeError("the briefing failed")
    assert callbacks == [] and sms.queued == []
    assert not OutboundMessage.objects.exists()


def test_the_row_holds_the_number_in_e164_the_final_text_and_its_cost(sms):
    message = services.send_sms(to="07700 900001", body="Vote “FOR” – today", key="k1", purpose="briefing")
    assert message.to == NUMBER
    # The number's first campaign text: it also links the privacy notice.
    assert message.body == 'Free Movement: Vote "FOR" - today\nReply STOP to opt out\n' + privacy_line()
    assert (message.status, message.encoding, message.segments, message.attempts) == ("queued", "GSM-7", 1, 0)
    assert list(message.status_changes.values_list("from_status", "to_status")) == [("", "queued")]


def test_a_number_opted_out_when_queueing_gets_a_skipped_row_and_no_task(sms):
    services.opt_out(NUMBER, source=OptOutEvent.Source.COORDINATOR)
    message = services.send_sms(to=NUMBER, body="Vote FOR", key="k1", purpose="briefing")
    sms.commit()
    assert message.status == OutboundMessage.Status.SKIPPED and message.error_code == "opted_out"
    assert sms.queued == []


def test_a_text_already_past_its_useless_after_time_is_skipped(sms):
    message = services.send_sms(
        to=NUMBER, body="Vote now", key="k1", purpose="b", useless_after=timezone.now() - dt.timedelta(minutes=1)
    )
    sms.commit()
    assert message.status == OutboundMessage.Status.SKIPPED and message.error_code == "expired"
    assert sms.queued == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"to": "not a number"}, "to"),
        ({"to": "01632 960000"}, "to"),  # a landline
        ({"to": ""}, "to"),
        ({"body": ""}, "body"),
        ({"body": "x" * 2000}, "body"),
        ({"key": ""}, "key"),
        ({"key": "k" * 201}, "key"),
        ({"purpose": ""}, "purpose"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(sms, kwargs, field):
    arguments = {"to": NUMBER, "body": "Hello", "key": "k1", "purpose": "test", **kwargs}
    with pytest.raises(ValidationError) as raised:
        services.send_sms(**arguments)
    assert field in raised.value.message_dict
    assert not OutboundMessage.objects.exists()


def test_a_service_text_carries_no_sender_prefix_or_opt_out_line(sms):
    message = services.send_sms(to=NUMBER, body="Shift at 9", key="k1", purpose="volunteer_reminder", marketing=False)
    assert message.body == "Shift at 9" and not message.marketing


def test_opting_out_and_back_in_is_recorded_with_history(sms):
    assert services.opt_out(NUMBER, source=OptOutEvent.Source.COORDINATOR) is True
    assert services.opt_out("07700 900001", source=OptOutEvent.Source.SMS_KEYWORD, keyword="STOP") is False
    assert services.is_opted_out("07700900001")
    assert services.opt_in(NUMBER, source=OptOutEvent.Source.SMS_KEYWORD, keyword="START") is True
    assert not services.is_opted_out(NUMBER)
    assert OptOutEvent.objects.filter(number=NUMBER).count() == 3


def test_status_history_is_written_for_every_change(sms):
    message = services.send_sms(to=NUMBER, body="Hello", key="k1", purpose="test")
    sms.run_queued()
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_sid.startswith("SMLOCMEM")
    changes = list(OutboundStatusChange.objects.filter(message=message).values_list("from_status", "to_status"))
    assert changes == [("", "queued"), ("queued", "sending"), ("sending", "sent")]
