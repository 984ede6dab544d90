import pytest

from messaging import services
from messaging.keywords import HELP, START, STOP, parse_keyword
from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage
from messaging.registry import register_reply_handler, unregister_reply_handler
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("everyone_consents")

NUMBER = "+447700900123"


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop",
        "stop.",
        " STOP! ",
        "Stop texting me please",
        "please stop",
        "I said STOP!!!",
        "STOPALL",
        "stop all",
        "UNSUBSCRIBE",
        "unsubscribe me",
        "cancel",
        "END",
        "QUIT",
        "Quit it",
        "opt out",
    ],
)
def test_stop_words_are_read_generously(body):
    assert parse_keyword(body) == STOP


@pytest.mark.parametrize("body", ["START", "start", "Unstop", "START please", "start!"])
def test_start_words_opt_back_in(body):
    assert parse_keyword(body) == START


@pytest.mark.parametrize("body", ["HELP", "help?", "Help me", "INFO"])
def test_help_words_ask_who_we_are(body):
    assert parse_keyword(body) == HELP


@pytest.mark.parametrize(
    "body",
    ["YES", "C", "X", "FOR", "start time?", "What time does the fringe start?", "", "   ", "🙂", "Stopover in Crewe"],
)
def test_ordinary_replies_are_not_keywords(body):
    assert parse_keyword(body) == ""


def _inbound(body, sid):
    return services.receive_inbound(from_number="07700 900123", to_number="+447700900999", body=body, provider_sid=sid)


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["STOP", "stop", "Stop texting me please", "STOPALL", "UNSUBSCRIBE", "cancel"])
def test_a_stop_reply_opts_the_number_out_and_confirms_once(sms, body):
    inbound = _inbound(body, "SMstop1")
    assert inbound.keyword == STOP and inbound.handled
    assert services.is_opted_out(NUMBER)
    confirmations = OutboundMessage.objects.filter(to=NUMBER, purpose=services.KEYWORD_REPLY_PURPOSE)
    assert confirmations.count() == 1
    sms.run_queued()
    assert [m.body for m in sms.outbox] == [services.stop_confirmation_text()]


@pytest.mark.django_db
def test_a_second_stop_sends_no_second_confirmation(sms):
    _inbound("STOP", "SM1")
    _inbound("stop.", "SM2")
    sms.run_queued()
    stop_confirmations = [m for m in sms.outbox if m.body == services.stop_confirmation_text()]
    assert len(stop_confirmations) == 1
    # Opting back in and stopping again is a new opt-out, and the person is told it worked.
    _inbound("START", "SM3")
    _inbound("END", "SM4")
    _inbound("stop", "SM5")
    sms.run_queued()
    stop_confirmations = [m for m in sms.outbox if m.body == services.stop_confirmation_text()]
    assert len(stop_confirmations) == 2
    assert services.is_opted_out(NUMBER)
    actions = list(OptOutEvent.objects.order_by("id").values_list("action", "keyword"))
    assert actions == [
        ("opt_out", "STOP"),
        ("opt_out", "stop."),
        ("opt_in", "START"),
        ("opt_out", "END"),
        ("opt_out", "stop"),
    ]


@pytest.mark.django_db
def test_stop_stops_texts_already_queued(sms):
    queued = services.send_sms(to=NUMBER, body="Vote FOR", key="b:1", purpose="test_briefing")
    _inbound("stop", "SM1")
    sms.run_queued()
    queued.refresh_from_db()
    assert queued.status == OutboundMessage.Status.SKIPPED
    assert [m.body for m in sms.outbox] == [services.stop_confirmation_text()]


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["START", "unstop"])
def test_start_opts_the_number_back_in(sms, word):
    _inbound("STOP", "SM1")
    _inbound(word, "SM2")
    assert not services.is_opted_out(NUMBER)
    assert OptOut.objects.get(number=NUMBER).opted_out is False
    message = services.send_sms(to=NUMBER, body="Vote FOR", key="b:1", purpose="test_briefing")
    assert message.status == OutboundMessage.Status.QUEUED


@pytest.mark.django_db
def test_help_says_who_we_are_and_how_to_stop(sms):
    _inbound("HELP", "SM1")
    sms.run_queued()
    (reply,) = sms.outbox
    assert "Free Movement" in reply.body and "STOP" in reply.body
    assert not services.is_opted_out(NUMBER)


@pytest.mark.django_db
def test_help_is_answered_even_after_an_opt_out(sms):
    _inbound("STOP", "SM1")
    _inbound("help", "SM2")
    sms.run_queued()
    assert [m.body for m in sms.outbox] == [services.stop_confirmation_text(), services.help_text()]


@pytest.mark.django_db
def test_an_ordinary_reply_goes_to_the_handler_registered_for_the_texts_purpose(sms):
    seen = []
    register_reply_handler("test_reminder", lambda inbound: seen.append(inbound.body) or True)
    try:
        sent = services.send_sms(to=NUMBER, body="Shift at 9?", key="r:1", purpose="test_reminder")
        inbound = _inbound("C", "SM1")
    finally:
        unregister_reply_handler("test_reminder")
    assert seen == ["C"]
    assert inbound.in_reply_to == sent and inbound.purpose == "test_reminder" and inbound.handled


@pytest.mark.django_db
def test_a_failing_handler_leaves_the_reply_stored_and_unhandled(sms, caplog):
    def broken(inbound):
        raise RuntimeError(f"bug about {inbound.body}")

    register_reply_handler("test_briefing", broken)
    try:
        services.send_sms(to=NUMBER, body="Vote FOR", key="b:1", purpose="test_briefing")
        inbound = _inbound("AGAINST, sorry", "SM1")
    finally:
        unregister_reply_handler("test_briefing")
    stored = InboundMessage.objects.get(pk=inbound.pk)
    assert not stored.handled and stored.purpose == "test_briefing"
    assert "AGAINST" not in caplog.text and "900123" not in caplog.text
