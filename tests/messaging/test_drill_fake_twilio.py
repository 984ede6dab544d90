"""The fake Twilio the drills rely on, checked with Twilio's own client so the shapes are right."""

import datetime as dt
import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.messaging.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MESSAGING_SERVICE_SID,
    FakeTwilio,
    max_in_any_window,
    segments_of,
)

TO = "+447700900123"


@pytest.fixture
def twilio():
    with FakeTwilio(hang_seconds=3) as fake:
        yield fake


def client_for(fake, *, token=AUTH_TOKEN, timeout=2.0):
    client = Client(ACCOUNT_SID, token, http_client=TwilioHttpClient(timeout=timeout))
    client.api.base_url = fake.base_url
    return client


def send(client, to=TO, body="Vote FOR composite 3"):
    return client.messages.create(
        to=to,
        body=body,
        messaging_service_sid=MESSAGING_SERVICE_SID,
        status_callback="https://cardvote.example/sms/twilio/status/?message=7",
    )


def test_a_send_is_answered_201_with_a_message_sid_and_recorded(twilio):
    message = send(client_for(twilio))

    assert message.sid.startswith("SM")
    assert message.status == "queued"
    assert message.num_segments == "1"
    [recorded] = twilio.sends()
    assert recorded.to == TO
    assert recorded.params["Body"] == "Vote FOR composite 3"
    assert recorded.params["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    assert recorded.status == 201
    assert recorded.authorised


def test_a_wrong_auth_token_is_refused_with_20003(twilio):
    with pytest.raises(TwilioRestException) as raised:
        send(client_for(twilio, token="wrong"))

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert twilio.messages() == []


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [("429", 429, 20429), ("21211", 400, 21211), ("21610", 400, 21610), ("21614", 400, 21614), ("500", 500, None)],
)
def test_scripted_errors_come_back_in_twilios_error_shape(twilio, answer, status, code):
    twilio.answer_next(answer)

    with pytest.raises(TwilioRestException) as raised:
        send(client_for(twilio))

    assert raised.value.status == status
    assert raised.value.code == code
    assert twilio.messages() == []


def test_answers_for_one_recipient_do_not_touch_the_others(twilio):
    twilio.answer_for(TO, "21211")
    client = client_for(twilio)

    send(client, to="+447700900999")
    with pytest.raises(TwilioRestException):
        send(client)
    send(client)  # the script is used up: back to the default

    assert [r.status for r in twilio.sends()] == [201, 400, 201]
    assert twilio.sends_per_recipient() == {TO: 2, "+447700900999": 1}


def test_a_hang_outlasts_the_client_timeout_and_a_hang_sent_is_still_found_in_the_list(twilio):
    twilio.answer_next("hang", "hang_sent")
    client = client_for(twilio, timeout=0.5)

    started = time.monotonic()
    for _ in range(2):
        with pytest.raises(Exception) as raised:
            send(client)
        assert "timed out" in str(raised.value).lower() or "timeout" in type(raised.value).__name__.lower()
    assert time.monotonic() - started < 2.5

    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    found = client.messages.list(to=TO, date_sent_after=since)
    assert len(found) == 1  # only the hang_sent one reached Twilio
    assert found[0].status == "sent"


def test_the_messages_list_filters_by_recipient_and_date_sent(twilio):
    client = client_for(twilio)
    first = send(client)
    send(client, to="+447700900999")

    assert [m.sid for m in client.messages.list(to=TO)] == [first.sid]
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert client.messages.list(to=TO, date_sent_after=tomorrow) == []
    assert len(client.messages.list(to=TO, date_sent_before=tomorrow)) == 1
    assert client.messages(first.sid).fetch().to == TO


def test_latency_delays_each_answer(twilio):
    twilio.latency = 0.15
    client = client_for(twilio)

    started = time.monotonic()
    send(client)

    assert time.monotonic() - started >= 0.15


def test_a_status_callback_is_signed_for_the_status_callback_url(twilio):
    message = send(client_for(twilio))

    url, form, signature = twilio.status_callback(message.sid, "delivered")

    assert url == "https://cardvote.example/sms/twilio/status/?message=7"
    assert form["MessageStatus"] == "delivered"
    assert RequestValidator(AUTH_TOKEN).validate(url, form, signature)


def test_wait_for_sends_gives_up_at_its_timeout(twilio):
    started = time.monotonic()

    assert not twilio.wait_for_sends(1, timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_an_unknown_answer_name_is_refused_at_once(twilio):
    with pytest.raises(ValueError, match="unknown answers"):
        twilio.answer_next("418")


def test_segments_count_like_twilio():
    assert segments_of("a" * 160) == 1
    assert segments_of("a" * 161) == 2
    assert segments_of("€" * 80) == 1  # an escaped character takes two septets
    assert segments_of("“" + "a" * 69) == 1
    assert segments_of("“" + "a" * 70) == 2


def test_max_in_any_window_counts_a_sliding_one_second_window():
    assert max_in_any_window([]) == 0
    assert max_in_any_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_any_window([0.0, 1.0, 2.0, 3.0]) == 1
