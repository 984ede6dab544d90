"""The worker's side: claim, check, send, record; retries and the sweeper. Time is frozen where it matters."""

import datetime as dt
import json
import socket
import threading
import time
import urllib.parse
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from messaging import services, tasks
from messaging.backends import PermanentSendError, SendResult, TransientSendError, UnknownOutcomeError, locmem
from messaging.models import OptOut, OptOutEvent, OutboundMessage
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("everyone_consents")]
Status = OutboundMessage.Status
NUMBER = "+447700900001"
T0 = dt.datetime(2026, 9, 27, 9, 0, tzinfo=dt.UTC)  # in the past: later steps may run unfrozen


def queue_one(sms, key="k1", **kwargs):
    message = services.send_sms(to=NUMBER, body="Vote FOR composite 3", key=key, purpose="briefing", **kwargs)
    sms.commit()
    return message


def test_a_queued_text_is_sent_once_and_a_duplicate_task_does_nothing(sms):
    message = queue_one(sms)
    assert tasks.deliver(message.pk) == "sent"
    assert tasks.deliver(message.pk) == "not-claimed"
    assert len(sms.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)


def test_opt_out_is_checked_again_at_send_time(sms):
    message = queue_one(sms)
    services.opt_out(NUMBER, source=OptOutEvent.Source.COORDINATOR)
    assert tasks.deliver(message.pk) == "skipped"
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.SKIPPED, "opted_out")
    assert sms.outbox == []


def test_a_text_that_became_useless_in_the_queue_is_skipped(sms):
    with time_machine.travel(T0, tick=False):
        message = queue_one(sms, useless_after=T0 + dt.timedelta(minutes=5))
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        assert tasks.deliver(message.pk) == "skipped"
    assert sms.outbox == []


def test_a_transient_error_requeues_with_growing_bounded_backoff_then_fails(sms):
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_one(sms)
        locmem.script(*[TransientSendError("20429", "Too many requests")] * tasks.MAX_ATTEMPTS)
        sms.queued.clear()
        delays = []
        for _ in range(tasks.MAX_ATTEMPTS):
            assert tasks.deliver(message.pk) in ("retry", "failed")
            message.refresh_from_db()
            if message.status == Status.QUEUED:
                delays.append(sms.countdowns[-1])
                assert tasks.deliver(message.pk) == "not-claimed"  # not due yet
                clock.shift(dt.timedelta(seconds=sms.countdowns[-1]))
    assert delays == [10, 20, 40, 80, 160]
    assert message.status == Status.FAILED and message.attempts == tasks.MAX_ATTEMPTS
    assert "Gave up after 6 attempts" in message.error_message
    assert sms.outbox == []


def test_a_transient_error_then_success_sends_once(sms):
    message = queue_one(sms)
    locmem.script(TransientSendError("connect", "refused"))
    sms.queued.clear()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=11)):
        assert tasks.deliver(message.pk) == "retry"
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=30)):
        assert tasks.deliver(message.pk) == "sent"
    assert len(sms.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code, message.error_message) == (Status.SENT, 2, "", "")
    assert message.status_changes.filter(error_code="connect").exists()  # the history keeps the retry


@pytest.mark.parametrize("code", ["21211", "21614", "21408"])
def test_a_permanent_error_fails_the_text_and_never_retries(sms, code):
    message = queue_one(sms)
    sms.queued.clear()
    locmem.script(PermanentSendError(code, "refused"))
    assert tasks.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, code)
    assert message.error_message  # explained in words
    assert sms.queued == []


def test_error_21610_opts_the_number_out_and_skips_the_text(sms):
    message = queue_one(sms)
    locmem.script(PermanentSendError("21610", "unsubscribed"))
    assert tasks.deliver(message.pk) == "skipped"
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.SKIPPED, "21610")
    assert OptOut.objects.get(number=NUMBER).opted_out
    assert OptOutEvent.objects.get(number=NUMBER).source == OptOutEvent.Source.TWILIO_21610


def test_a_timeout_makes_the_outcome_unknown_and_nothing_is_resent_blindly(sms):
    message = queue_one(sms)
    sms.queued.clear()
    locmem.script(UnknownOutcomeError("timeout", "no answer"))
    assert tasks.deliver(message.pk) == "unknown"
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert sms.queued == []
    assert tasks.deliver(message.pk) == "not-claimed"


def test_the_sweeper_adopts_an_unknown_text_the_provider_has(sms):
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_one(sms)
        sms.queued.clear()
        tasks.deliver(message.pk)
        # The provider took it but our worker never heard back: move the row back to unknown.
        sid = sms.outbox[0].sid
        OutboundMessage.objects.filter(pk=message.pk).update(status=Status.UNKNOWN, provider_sid="")
        clock.shift(dt.timedelta(seconds=tasks.UNKNOWN_GRACE_SECONDS - 5))
        assert tasks.sweep()["resolved"] == 0  # still waiting for the status callback
        clock.shift(dt.timedelta(seconds=10))
        assert tasks.sweep()["resolved"] == 1
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (Status.SENT, sid)
    assert len(sms.outbox) == 1 and sms.queued == []


def test_the_sweeper_requeues_an_unknown_text_the_provider_never_got(sms):
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_one(sms)
        sms.queued.clear()
        locmem.script(UnknownOutcomeError("500", "server error"))
        tasks.deliver(message.pk)
        clock.shift(dt.timedelta(seconds=tasks.UNKNOWN_GRACE_SECONDS + 1))
        tasks.sweep()
        assert sms.queued == [message.pk]
        assert sms.run_queued() == ["sent"]
    message.refresh_from_db()
    assert message.status == Status.SENT and len(sms.outbox) == 1


def test_a_text_another_of_our_rows_owns_is_not_adopted(sms):
    with time_machine.travel(T0, tick=False) as clock:
        other = queue_one(sms, key="other")
        tasks.deliver(other.pk)  # a different text to the same number, recorded with its SID
        message = queue_one(sms, key="mine")
        sms.queued.clear()
        locmem.script(UnknownOutcomeError("timeout", "no answer"))
        tasks.deliver(message.pk)
        clock.shift(dt.timedelta(seconds=tasks.UNKNOWN_GRACE_SECONDS + 1))
        tasks.sweep()
    message.refresh_from_db()
    assert message.status == Status.QUEUED and sms.queued == [message.pk]


def test_a_row_left_sending_by_a_killed_worker_is_settled_within_two_minutes(sms):
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_one(sms)
        sms.queued.clear()
        assert services.claim(message.pk) is not None  # the worker claimed it, then died (SIGKILL)
        sweeps_after = []
        for seconds in range(0, 181, 30):
            clock.move_to(T0 + dt.timedelta(seconds=seconds))
            tasks.sweep()
            if sms.queued:
                sweeps_after.append(seconds)
                break
    assert sweeps_after and sweeps_after[0] <= 120
    assert sms.run_queued() == ["sent"]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2


def test_the_sweeper_requeues_queued_rows_whose_task_was_lost_when_the_queue_is_idle(sms):
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_one(sms)
        sms.queued.clear()  # the broker lost it
        clock.shift(dt.timedelta(seconds=30))
        assert tasks.sweep()["requeued"] == 0
        clock.shift(dt.timedelta(seconds=31))
        assert tasks.sweep()["requeued"] == 1
        assert tasks.sweep()["requeued"] == 0  # not again straight away
    assert sms.queued == [message.pk]


def test_the_sweeper_requeues_a_row_overtaken_by_a_later_one(sms):
    with time_machine.travel(T0, tick=False) as clock:
        lost = queue_one(sms, key="lost")
        clock.shift(dt.timedelta(seconds=1))
        later = queue_one(sms, key="later")
        waiting = queue_one(sms, key="waiting")
        sms.queued.clear()
        tasks.deliver(later.pk)  # a busy queue: later rows are being sent, `lost` was skipped over
        clock.shift(dt.timedelta(seconds=61))
        OutboundMessage.objects.filter(pk=later.pk).update(claimed_at=timezone.now() - dt.timedelta(seconds=40))
        OutboundMessage.objects.filter(pk=waiting.pk).update(claimed_at=None)
        # Another worker is busy right now, so the queue is not idle.
        busy = queue_one(sms, key="busy")
        services.claim(busy.pk)
        sms.queued.clear()
        tasks.sweep()
    assert sms.queued == [lost.pk]


def test_the_sweeper_expires_queued_rows_past_useless_after(sms):
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_one(sms, useless_after=T0 + dt.timedelta(minutes=1))
        clock.shift(dt.timedelta(minutes=2))
        assert tasks.sweep()["expired"] == 1
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.SKIPPED, "expired")


def test_a_busy_rate_limit_gives_the_claim_back_uncounted(sms, monkeypatch):
    message = queue_one(sms)
    sms.queued.clear()
    monkeypatch.setattr(tasks.ratelimit, "acquire", lambda **kwargs: False)
    assert tasks.deliver(message.pk) == "deferred"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.QUEUED, 0)
    assert sms.queued == [message.pk] and sms.countdowns[-1] == tasks.RATE_MAX_WAIT_SECONDS


def test_delivering_a_campaign_text_admitted_at_once_takes_a_fixed_number_of_queries(
    sms, django_assert_max_num_queries
):
    """Claim (update + history, in a savepoint here, + read), the look before admission (one query), consent (one
    per app that registers a check: delegates, lobbying, volunteers), then sent (lock + update + history, in a
    savepoint). No look after admission: it would sit inside the window the text holds at the limiter."""
    message = queue_one(sms)
    with django_assert_max_num_queries(14):
        assert tasks.deliver(message.pk) == "sent"


def test_the_limiter_hears_when_the_request_has_left_and_not_for_a_text_that_never_does(sms, monkeypatch):
    """deliver() hands the backend ratelimit.request_left for the text's admission: the window restarts once
    the request is out. A text skipped before its request (opted out meanwhile) never calls it."""
    left = []
    monkeypatch.setattr(tasks.ratelimit, "request_left", left.append)
    sent = queue_one(sms, key="k-sent")
    assert tasks.deliver(sent.pk) == "sent"
    [admitted] = left
    assert isinstance(admitted, tasks.ratelimit.Admitted) and admitted.cost == sent.segments
    skipped = queue_one(sms, key="k-skipped")
    services.opt_out(NUMBER, source="sms", keyword="STOP")
    assert tasks.deliver(skipped.pk) == "skipped"
    assert len(left) == 1


def test_the_last_look_after_admission_finds_an_opt_out_kept_only_as_a_hash(sms):
    """A number whose owner was erased keeps its opt-out as a keyed hash: the one-query re-check right before
    the provider call (services.last_look) must match it by that hash, as the checks before it do."""
    message = queue_one(sms)
    OptOut.objects.create(number="", number_hash=services.number_hash(NUMBER), opted_out=True)
    look = services.last_look(message)
    assert (look.to, look.opted_out, look.batch_state) == (NUMBER, True, "open")


def test_the_provider_reports_segments_and_the_row_keeps_them(sms):
    message = queue_one(sms)
    locmem.script(SendResult(sid="SMabc", status="queued", segments=2))
    tasks.deliver(message.pk)
    message.refresh_from_db()
    assert (message.provider_sid, message.segments) == ("SMabc", 2)


# --- The real Twilio client over HTTP, against a fake on 127.0.0.1 ---------------------------------


class FakeTwilio:
    """Answers the Messages endpoints with scripted replies and records each request."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict]] = []
        self.answers: deque = deque()
        self.list_reply: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                fake.requests.append(("GET", parsed.path, dict(urllib.parse.parse_qsl(parsed.query))))
                self._reply(200, {"messages": fake.list_reply, "next_page_uri": None, "page": 0, "page_size": 50})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append(("POST", self.path, form))
                answer = fake.answers.popleft() if fake.answers else 201
                if answer == "hang":
                    time.sleep(1.5)
                    return
                if answer == 201:
                    self._reply(201, {"sid": "SM" + "1" * 32, "status": "queued", "num_segments": "2"})
                else:
                    status, code = answer
                    self._reply(status, {"code": code, "message": "scripted", "status": status})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake_twilio(sms, settings):
    fake = FakeTwilio()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    yield fake
    fake.close()


def test_the_twilio_backend_posts_to_the_configured_base_url(fake_twilio):
    with time_machine.travel(T0, tick=False):
        message = services.send_sms(
            to=NUMBER, body="Vote FOR", key="k1", purpose="b", useless_after=T0 + dt.timedelta(minutes=30)
        )
    with time_machine.travel(T0 + dt.timedelta(minutes=10)):
        assert tasks.deliver(message.pk) == "sent"
    ((method, path, form),) = fake_twilio.requests
    assert (method, path) == ("POST", f"/2010-04-01/Accounts/{'AC' + '0' * 32}/Messages.json")
    assert form["To"] == NUMBER and form["Body"].startswith("Free Movement: Vote FOR")
    assert form["MessagingServiceSid"] == "MG" + "0" * 32 and "From" not in form
    assert form["StatusCallback"] == f"https://cardvote.example.org/sms/twilio/status/?message={message.pk}"
    assert 1190 <= int(form["ValidityPeriod"]) <= 1200
    message.refresh_from_db()
    assert (message.status, message.provider_sid, message.segments) == (Status.SENT, "SM" + "1" * 32, 2)


def test_the_twilio_backend_uses_the_from_number_without_a_messaging_service(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = "+447700900999"
    message = services.send_sms(to=NUMBER, body="Vote FOR", key="k1", purpose="b")
    tasks.deliver(message.pk)
    form = fake_twilio.requests[0][2]
    assert form["From"] == "+447700900999" and "MessagingServiceSid" not in form and "ValidityPeriod" not in form


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        ((429, 20429), Status.QUEUED, "20429"),
        ((400, 21211), Status.FAILED, "21211"),
        ((400, 21614), Status.FAILED, "21614"),
        ((400, 21610), Status.SKIPPED, "21610"),
        ((500, None), Status.UNKNOWN, "500"),
        ((503, 20500), Status.UNKNOWN, "20500"),
        ("hang", Status.UNKNOWN, "timeout"),
    ],
)
def test_each_twilio_answer_is_mapped_to_the_right_status(fake_twilio, answer, status, code):
    fake_twilio.answers.append(answer)
    message = services.send_sms(to=NUMBER, body="Vote FOR", key="k1", purpose="b")
    tasks.deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == (status, code)
    assert len([r for r in fake_twilio.requests if r[0] == "POST"]) == 1


def test_connection_refused_is_retried_later(fake_twilio, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{closed_port}"
    message = services.send_sms(to=NUMBER, body="Vote FOR", key="k1", purpose="b")
    assert tasks.deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.QUEUED, "connect")


def test_an_unknown_twilio_text_is_settled_by_asking_twilios_message_list(fake_twilio):
    with time_machine.travel(T0, tick=False) as clock:
        fake_twilio.answers.append((500, None))
        message = services.send_sms(to=NUMBER, body="Vote FOR", key="k1", purpose="b")
        tasks.deliver(message.pk)
        fake_twilio.list_reply = [
            {
                "sid": "SM" + "2" * 32,
                "status": "delivered",
                "to": NUMBER,
                "date_created": "Sun, 27 Sep 2026 09:00:01 +0000",
            }
        ]
        clock.shift(dt.timedelta(seconds=tasks.UNKNOWN_GRACE_SECONDS + 1))
        tasks.sweep()
    method, _path, query = fake_twilio.requests[-1]
    assert method == "GET" and query["To"] == NUMBER and "DateSent>" in query
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (Status.DELIVERED, "SM" + "2" * 32)
