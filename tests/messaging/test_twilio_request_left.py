"""The Twilio backend says when a text's request has left (BaseBackend.send's ``left``): the rate limiter's
window for the text runs from then, so nothing on this side of the wire can crowd a second at the provider."""

import time

import pytest

from messaging.backends.base import TransientSendError
from messaging.backends.twilio import TwilioBackend
from messaging.models import OutboundMessage
from tests.messaging.fake_twilio import FakeTwilio
from tests.support.processes import free_port

LATENCY = 0.3


@pytest.fixture
def twilio(settings):
    with FakeTwilio(latency=LATENCY) as fake:
        for name, value in fake.env().items():
            setattr(settings, name, value)
        settings.TWILIO_TIMEOUT_SECONDS = 5
        yield fake


def a_text(pk=7):
    return OutboundMessage(pk=pk, to="+447700900123", body="Vote FOR composite 3", segments=1)


def test_left_is_called_once_after_the_provider_has_the_request_and_before_its_answer(twilio):
    calls = []
    started = time.time()
    result = TwilioBackend().send(a_text(), left=lambda: calls.append(time.time()))
    answered = time.time()
    assert result.sid.startswith("SM") and len(twilio.sends()) == 1
    assert len(calls) == 1
    assert started <= calls[0] <= answered - LATENCY + 0.05  # written, and not waiting for the answer first


def test_left_is_not_called_for_a_request_that_never_left(settings):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nobody listening: connection refused
    calls = []
    with pytest.raises(TransientSendError):
        TwilioBackend().send(a_text(), left=lambda: calls.append(1))
    assert calls == []


def test_a_failing_left_callback_does_not_lose_the_answer(twilio):
    def broken():
        raise RuntimeError("limiter bug")

    assert TwilioBackend().send(a_text(), left=broken).sid.startswith("SM")
    later = []
    TwilioBackend().send(a_text(8))  # the next send does not call an earlier text's callback
    assert later == [] and len(twilio.sends()) == 2
