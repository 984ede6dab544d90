"""Twilio's webhooks: signed against PUBLIC_BASE_URL, idempotent, forward-only, and never a 500."""

import pytest
from django.urls import reverse

from messaging import services, tasks
from messaging.models import InboundMessage, OutboundMessage, OutboundStatusChange
from tests.messaging.core_support import PUBLIC, post_signed, sms_fixture, twilio_signature  # noqa: F401

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("everyone_consents")]
Status = OutboundMessage.Status
NUMBER = "+447700900001"


@pytest.fixture
def sent(sms):
    message = services.send_sms(to=NUMBER, body="Vote FOR composite 3", key="k1", purpose="briefing")
    sms.run_queued()
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def status_params(message, status, **extra):
    return {"MessageSid": message.provider_sid, "MessageStatus": status, "To": NUMBER, "AccountSid": "AC1", **extra}


def test_a_signed_status_callback_moves_the_text_to_delivered(client, sent):
    response = post_signed(client, "twilio-status", status_params(sent, "delivered"), f"message={sent.pk}")
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == Status.DELIVERED and sent.delivered_at is not None


def test_the_signature_is_checked_against_public_base_url_not_the_host_header(client, sent):
    # Behind a TLS proxy Django sees http://internal:8000; Twilio signed https://cardvote.example.org.
    response = post_signed(
        client, "twilio-status", status_params(sent, "delivered"), f"message={sent.pk}", HTTP_HOST="127.0.0.1"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "garbage!!"])
def test_a_missing_or_bad_signature_is_refused_and_logged_without_personal_data(client, sent, signature, caplog):
    params = status_params(sent, "delivered")
    response = post_signed(client, "twilio-status", params, f"message={sent.pk}", signature=signature)
    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.status == Status.SENT
    assert "refused" in caplog.text and "900001" not in caplog.text


def test_a_signature_for_another_message_id_is_refused(client, sent):
    params = status_params(sent, "delivered")
    signature = twilio_signature(f"{PUBLIC}/sms/twilio/status/?message=999", params)
    response = post_signed(client, "twilio-status", params, f"message={sent.pk}", signature=signature)
    assert response.status_code == 403


def test_without_an_auth_token_every_webhook_is_refused(client, sent, settings):
    params = status_params(sent, "delivered")
    signature = twilio_signature(f"{PUBLIC}/sms/twilio/status/?message={sent.pk}", params)
    settings.TWILIO_AUTH_TOKEN = ""
    response = post_signed(client, "twilio-status", params, f"message={sent.pk}", signature=signature)
    assert response.status_code == 403


def test_duplicate_callbacks_change_the_text_once(client, sent):
    for _ in range(3):
        assert (
            post_signed(client, "twilio-status", status_params(sent, "delivered"), f"message={sent.pk}").status_code
            == 200
        )
    assert OutboundStatusChange.objects.filter(message=sent, to_status=Status.DELIVERED).count() == 1


def test_an_out_of_order_sent_after_delivered_leaves_it_delivered(client, sent):
    post_signed(client, "twilio-status", status_params(sent, "delivered"), f"message={sent.pk}")
    post_signed(client, "twilio-status", status_params(sent, "sent"), f"message={sent.pk}")
    post_signed(client, "twilio-status", status_params(sent, "queued"), f"message={sent.pk}")
    sent.refresh_from_db()
    assert sent.status == Status.DELIVERED


def test_undelivered_records_the_error_code_in_words(client, sent):
    post_signed(client, "twilio-status", status_params(sent, "undelivered", ErrorCode="30003"), f"message={sent.pk}")
    sent.refresh_from_db()
    assert (sent.status, sent.error_code) == (Status.UNDELIVERED, "30003")
    assert "switched off" in sent.error_message


def test_a_callback_settles_an_unknown_text(client, sms):
    from messaging.backends import UnknownOutcomeError, locmem

    message = services.send_sms(to=NUMBER, body="Vote FOR", key="k1", purpose="briefing")
    locmem.script(UnknownOutcomeError("timeout", "no answer"))
    sms.run_queued()
    params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "sent"}
    post_signed(client, "twilio-status", params, f"message={message.pk}")
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (Status.SENT, "SM" + "9" * 32)
    assert (message.error_code, message.error_message) == ("", "")


def test_a_callback_that_beats_the_worker_is_kept_and_the_worker_adds_only_the_sid(client, sms, monkeypatch):
    from messaging.backends import SendResult
    from messaging.backends.locmem import LocmemBackend

    message = services.send_sms(to=NUMBER, body="Vote FOR", key="k1", purpose="briefing")
    sms.commit()

    def send_then_callback(self, msg, *, left=None):
        # Twilio calls back before our worker has written down the result.
        params = {"MessageSid": "SMearly", "MessageStatus": "delivered"}
        assert post_signed(client, "twilio-status", params, f"message={msg.pk}").status_code == 200
        return SendResult(sid="SMearly", status="queued", segments=1)

    monkeypatch.setattr(LocmemBackend, "send", send_then_callback)
    assert tasks.deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (Status.DELIVERED, "SMearly")


@pytest.mark.parametrize(
    "query", ["message=999999", "message=abc", "message=-1", "message=99999999999999999999999999", "", "message=1%00"]
)
def test_a_callback_for_an_unknown_or_garbled_id_gets_200(client, sms, query):
    params = {"MessageSid": "SMnobody", "MessageStatus": "delivered"}
    assert post_signed(client, "twilio-status", params, query).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"MessageStatus": "exploded"},
        {"MessageStatus": "delivered", "ErrorCode": "x" * 500},
        {"MessageStatus": "delivered\x00", "MessageSid": "SM\x00"},
        {"MessageStatus": "failed", "ErrorCode": "30008", "MessageSid": "S" * 500},
    ],
)
def test_garbage_callbacks_never_cause_a_500(client, sent, params):
    assert post_signed(client, "twilio-status", params, f"message={sent.pk}").status_code == 200


def test_a_get_is_not_allowed(client, sms):
    assert client.get("/sms/twilio/status/").status_code == 405
    assert client.get("/sms/twilio/inbound/").status_code == 405


def inbound_params(body, sid="SM" + "a" * 32, sender="+447700900001"):
    return {"MessageSid": sid, "From": sender, "To": "+447700900999", "Body": body, "AccountSid": "AC1"}


def test_a_signed_inbound_text_is_stored_and_linked_to_the_text_it_answers(client, sent):
    response = post_signed(client, "twilio-inbound", inbound_params("FOR"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    inbound = InboundMessage.objects.get()
    assert (inbound.from_number, inbound.body, inbound.in_reply_to, inbound.purpose) == (
        NUMBER,
        "FOR",
        sent,
        "briefing",
    )


def test_an_inbound_text_twilio_retries_is_stored_once(client, sms):
    for _ in range(2):
        assert post_signed(client, "twilio-inbound", inbound_params("STOP")).status_code == 200
    assert InboundMessage.objects.count() == 1
    assert OutboundMessage.objects.filter(purpose=services.KEYWORD_REPLY_PURPOSE).count() == 1


@pytest.mark.parametrize("signature", ["", "d3Jvbmc="])
def test_an_unsigned_inbound_stop_is_refused_and_changes_nothing(client, sms, signature):
    response = post_signed(client, "twilio-inbound", inbound_params("STOP"), signature=signature)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists() and not services.is_opted_out(NUMBER)


def test_a_signed_stop_by_webhook_opts_out(client, sms):
    post_signed(client, "twilio-inbound", inbound_params("Stop texting me please"))
    assert services.is_opted_out(NUMBER)


def test_twilios_own_opt_out_reading_is_honoured_for_words_we_do_not_know(client, sms):
    params = {**inbound_params("ARRET"), "OptOutType": "STOP"}
    assert post_signed(client, "twilio-inbound", params).status_code == 200
    assert services.is_opted_out(NUMBER)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"From": ""},
        {"From": "+447700900001", "Body": "hi", "OptOutType": "DELETE EVERYTHING" * 5},
        {"From": "not a number", "Body": "hi", "MessageSid": "SMx"},
        {"From": "12345", "Body": "STOP", "MessageSid": "SMy"},  # a short code
        {"From": "+447700900001", "Body": "\x00" * 10 + "hi", "MessageSid": "SMz"},
        {"From": "+447700900001", "Body": "é" * 5000, "MessageSid": "SM" + "z" * 200},
        {"From": "+447700900001" * 10, "Body": "HELP"},
    ],
)
def test_garbage_inbound_texts_never_cause_a_500(client, sms, params):
    assert post_signed(client, "twilio-inbound", params).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("multipart/form-data", b"--nothing\r\n"),
        ("multipart/form-data; boundary=x", b"garbage"),
        ("application/json", b'{"From": "+447700900001", "Body": "STOP"}'),
        ("application/x-www-form-urlencoded", b"%ff%fe=%00&&&==="),
        ("text/plain", b"\x00\xff" * 100),
    ],
)
@pytest.mark.parametrize("name", ["twilio-status", "twilio-inbound"])
def test_malformed_request_bodies_are_refused_not_a_500(client, sms, name, content_type, data):
    response = client.post(reverse(name), data, content_type=content_type, HTTP_X_TWILIO_SIGNATURE="abc")
    assert response.status_code in (400, 403)
    assert not InboundMessage.objects.exists()
