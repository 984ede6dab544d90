"""Opt-out requests in plain words, spaced-out letters and look-alike alphabets are never missed: they opt out
when the text is only the request, and otherwise wait at the top of the inbox with a one-tap opt-out."""

import pytest
from django.urls import reverse

from messaging import services
from messaging.keywords import STOP, looks_like_opt_out, normalise, parse_keyword
from messaging.models import InboundMessage, OptOutEvent, OutboundMessage
from messaging.registry import register_reply_handler, unregister_reply_handler
from tests.messaging.core_support import post_signed, sms_fixture  # noqa: F401  (the `sms` fixture)

pytestmark = pytest.mark.django_db
NUMBER = "+447700900001"
_sids = iter(range(10_000))


def text_in(client, body, sender=NUMBER):
    params = {"MessageSid": f"SM{next(_sids):032d}", "From": sender, "To": "+447700900999", "Body": body}
    assert post_signed(client, "twilio-inbound", params).status_code == 200
    return InboundMessage.objects.order_by("-id").first()


UNAMBIGUOUS = [
    "Please don't text me again",
    "please dont text me again",
    "stop sending me these",
    "s t o p",
    "S.T.O.P",
    "S-T-O-P please",
    "remove me",
    "Remove me from this list please",
    "unsubscribe me",
    "ЅTOP",  # Cyrillic capital DZE for the S
    "ЅТОР",  # Cyrillic S, T, O and ER
    "S\u03a4\u039f\u03a1",  # Greek TAU, OMICRON and RHO after a Latin S
    "ｓｔｏｐ",  # full-width letters
    "S\u200bTOP",  # a zero-width space inside
    "ST0P",
    "No more texts thanks",
    "take me off your list",
    "Do not message me",
]


@pytest.mark.parametrize("body", UNAMBIGUOUS)
def test_an_unambiguous_request_through_the_signed_webhook_opts_out_and_confirms_once(client, sms, body):
    inbound = text_in(client, body)
    assert services.is_opted_out(NUMBER)
    assert (inbound.keyword, inbound.handled, inbound.looks_like_opt_out) == (STOP, True, False)
    event = OptOutEvent.objects.get(number=NUMBER)
    assert event.source == OptOutEvent.Source.SMS_KEYWORD
    assert OutboundMessage.objects.filter(to=NUMBER, purpose=services.KEYWORD_REPLY_PURPOSE).count() == 1


AMBIGUOUS = [
    "Can you remove me from the Tuesday leafleting shift? I have a clash",
    "Don't text me during the debate, I will call you about composite 3 afterwards",
    "I'm going to stop sending my CLP's motion until the CAC rules on it, is that ok with you all",
]


@pytest.mark.parametrize("body", AMBIGUOUS)
def test_a_request_inside_a_longer_text_is_flagged_not_guessed(client, sms, body):
    inbound = text_in(client, body)
    assert not services.is_opted_out(NUMBER)
    assert (inbound.keyword, inbound.handled, inbound.looks_like_opt_out) == ("", False, True)


@pytest.mark.parametrize("body", ["YES", "start time?", "Stopover in Crewe", "I am a delegate for Hackney", "A B"])
def test_ordinary_replies_are_neither_opted_out_nor_flagged(client, sms, body):
    inbound = text_in(client, body)
    assert not services.is_opted_out(NUMBER)
    assert inbound.looks_like_opt_out is False and inbound.keyword == ""


def test_stop_still_wins_over_everything(client, sms):
    assert parse_keyword("STOP remove me from the Tuesday shift and also start time?") == STOP
    assert parse_keyword("ЅTOP start") == STOP
    text_in(client, "START")
    text_in(client, "s t o p")
    assert services.is_opted_out(NUMBER)


def test_look_alikes_normalise_to_latin_capitals():
    assert normalise("ЅТОР") == "STOP"
    assert normalise("stöp") == "STOP"
    assert not looks_like_opt_out("STOP")  # acted on, so not merely flagged


def test_a_reply_handler_cannot_hide_a_flagged_request(client, sms):
    OutboundMessage.objects.create(idempotency_key="k", to=NUMBER, body="Shift reminder", purpose="test-shift")
    register_reply_handler("test-shift", lambda inbound: True)
    try:
        inbound = text_in(client, AMBIGUOUS[0])
    finally:
        unregister_reply_handler("test-shift")
    assert inbound.handled is False and inbound.looks_like_opt_out is True


def test_the_inbox_shows_flagged_requests_first_with_a_one_tap_opt_out(client, sms, coordinator_client, coordinator):
    flagged = text_in(client, AMBIGUOUS[0])
    newer = text_in(client, "See you at the fringe", sender="+447700900002")
    html = coordinator_client.get(reverse("inbox:list")).content.decode()
    assert "Looks like an opt-out request" in html
    assert "1 reply looks like a request to stop texting" in html
    assert html.index(f"/messages/replies/{flagged.pk}/opt-out/") < html.index(f"/messages/replies/{newer.pk}/")

    response = coordinator_client.post(reverse("inbox:reply-opt-out", args=[flagged.pk]))
    assert response.status_code == 302
    assert services.is_opted_out(NUMBER)
    event = OptOutEvent.objects.get(number=NUMBER)
    assert (event.source, event.action) == (OptOutEvent.Source.INBOX, OptOutEvent.Action.OPT_OUT)
    flagged.refresh_from_db()
    assert flagged.handled and flagged.handled_by == coordinator and flagged.handled_at is not None
    assert OutboundMessage.objects.filter(to=NUMBER, purpose=services.KEYWORD_REPLY_PURPOSE).count() == 1
    assert not services.is_opted_out("+447700900002")

    # Who handled it and when is on the page.
    html = coordinator_client.get(reverse("inbox:list"), {"show": "all"}).content.decode()
    assert f"by {coordinator.get_username()}" in html


def test_the_one_tap_opt_out_is_for_coordinators_only(client, sms, outsider_client):
    flagged = text_in(client, AMBIGUOUS[0])
    assert outsider_client.post(reverse("inbox:reply-opt-out", args=[flagged.pk])).status_code == 403
    assert not services.is_opted_out(NUMBER)
