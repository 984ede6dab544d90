"""End to end over real HTTP: a text goes to the fake Twilio, which calls our status webhook back.

The callback is signed for the StatusCallback URL built from PUBLIC_BASE_URL but delivered to the live
server's own address, as a TLS-terminating proxy would deliver it: the signature must still hold.
"""

import pytest
from django.db import transaction

from messaging import services
from messaging.models import OutboundMessage
from messaging.tasks import deliver
from tests.messaging.fake_twilio import FakeTwilio

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("everyone_consents")

Status = OutboundMessage.Status
TO = "+447700900777"


@pytest.fixture
def twilio(settings):
    with FakeTwilio() as fake:
        settings.SMS_BACKEND = "twilio"
        for name, value in fake.env().items():
            if name.startswith("TWILIO_"):
                setattr(settings, name, value)
        settings.TWILIO_TIMEOUT_SECONDS = 2.0
        settings.PUBLIC_BASE_URL = "https://cardvote.example"
        settings.SMS_RATE_PER_SECOND = 100.0  # this test is not about the rate
        yield fake


def send_one(twilio, key="callback:1"):
    with transaction.atomic():
        message = services.send_sms(to=TO, body="Briefing for Tuesday", key=key, purpose="briefing", marketing=False)
    assert deliver(message.pk) == "sent"
    message.refresh_from_db()
    return message


def status_path(message):
    return f"/sms/twilio/status/?message={message.pk}"


@pytest.mark.django_db(transaction=True)
def test_a_delivered_callback_signed_for_the_public_url_reaches_us_through_a_proxy(twilio, live_server):
    message = send_one(twilio)
    [sent] = twilio.messages()
    assert sent.status_callback == f"https://cardvote.example{status_path(message)}"

    answer = twilio.post_status_callback(sent.sid, "delivered", to_url=live_server.url + status_path(message))

    assert answer == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.provider_sid == sent.sid


@pytest.mark.django_db(transaction=True)
def test_a_callback_signed_with_another_token_is_refused_and_changes_nothing(twilio, live_server):
    message = send_one(twilio)
    [sent] = twilio.messages()
    twilio.auth_token = "someone-elses-token"

    answer = twilio.post_status_callback(sent.sid, "delivered", to_url=live_server.url + status_path(message))

    assert answer == 403
    message.refresh_from_db()
    assert message.status == Status.SENT


@pytest.mark.django_db(transaction=True)
def test_late_and_repeated_callbacks_never_move_a_message_backwards(twilio, live_server):
    message = send_one(twilio)
    [sent] = twilio.messages()
    url = live_server.url + status_path(message)

    answers = [
        twilio.post_status_callback(sent.sid, status, to_url=url) for status in ("delivered", "sent", "delivered")
    ]

    assert answers == [200, 200, 200]
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    history = list(message.status_changes.values_list("to_status", flat=True))
    assert history.count(Status.DELIVERED) == 1
