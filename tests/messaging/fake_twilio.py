"""A fake Twilio REST API on 127.0.0.1, for drills that run real Celery workers against it.

The server runs in a thread of the test (or bench) process; workers reach it over HTTP, so every
request from every process is recorded in one place. It speaks the part of Twilio's shape the
backend uses:

- POST /2010-04-01/Accounts/{sid}/Messages.json (To, Body, From | MessagingServiceSid,
  StatusCallback, ValidityPeriod) → 201 with a message resource, or a scripted error;
- GET  /2010-04-01/Accounts/{sid}/Messages.json?To=…&DateSent>=… → {"messages": [...]} newest first;
- GET  /2010-04-01/Accounts/{sid}/Messages/{sid}.json → one message.

What a POST is answered with can be scripted for the next requests or per recipient; see ``ANSWERS``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "fake-twilio-auth-token"
MESSAGING_SERVICE_SID = "MG" + "e" * 32

# name → (HTTP status, Twilio error code, does Twilio keep (and send) the message?, hang first?)
# The "_sent" variants are the ambiguous case a real outage produces: Twilio took the message, but
# the answer never reached us. That is why a timeout or a 5xx must not be blindly re-sent.
ANSWERS: dict[str, tuple[int, int | None, bool, bool]] = {
    "201": (201, None, True, False),
    "429": (429, 20429, False, False),
    "21211": (400, 21211, False, False),
    "21610": (400, 21610, False, False),
    "21614": (400, 21614, False, False),
    "500": (500, None, False, False),
    "500_sent": (500, None, True, False),
    "hang": (201, None, False, True),
    "hang_sent": (201, None, True, True),
}
_ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def segments_of(body: str) -> int:
    """Twilio's count: 160/153 GSM-7 characters or 70/67 UCS-2 ones per segment."""
    if all(ch in _GSM7 for ch in body):
        single, multi = 160, 153
        length = len(body) + sum(ch in "^{}\\[~]|€" for ch in body)  # escaped characters take two
    else:
        single, multi = 70, 67
        length = len(body)
    return 1 if length <= single else math.ceil(length / multi)


def max_in_any_window(timestamps, window: float = 1.0) -> int:
    """The most timestamps that fall within any half-open interval of ``window`` seconds."""
    times = sorted(timestamps)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    params: dict
    at: float  # time.time() when the request arrived
    answer: str
    status: int
    authorised: bool

    @property
    def to(self) -> str:
        return self.params.get("To", "")


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    messaging_service_sid: str | None
    body: str
    status: str
    created: dt.datetime
    status_callback: str | None
    validity_period: str | None
    segments: int
    error_code: int | None = None
    extra: dict = field(default_factory=dict)


def _parse_when(text: str) -> tuple[dt.datetime, bool]:
    """Twilio filters take a date or an ISO datetime; return it and whether it was a bare date."""
    text = text.strip()
    if len(text) == 10:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC), True
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC), False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Eight workers at once must never meet a full listen queue: a refused connection is a retry, and
    # the bench would be measuring the fake.
    request_queue_size = 128

    def server_activate(self):
        super().server_activate()
        self.accepted_at: dict[int, float] = {}

    def get_request(self):
        """Stamp each connection as it is accepted, before a handler thread starts for it: under load that
        thread may wait for the GIL, and its delay is the fake's, not the sender's. One request per
        connection (HTTP/1.0), so the stamp is the request's arrival."""
        request, address = super().get_request()
        self.accepted_at[id(request)] = time.time()
        return request, address


class FakeTwilio:
    """Start with ``with FakeTwilio() as twilio:``; point the app at ``twilio.env()``."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        hang_seconds: float = 15.0,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
    ):
        self.latency = latency
        self.hang_seconds = hang_seconds
        self.default_answer = "201"
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._log: list[Recorded] = []
        self._messages: dict[str, Message] = {}
        self._next: deque[str] = deque()
        self._per_recipient: dict[str, deque[str]] = defaultdict(deque)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging handlers
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """Environment for a worker process: the twilio backend aimed at this server."""
        return {
            "SMS_BACKEND": "twilio",
            "TWILIO_API_BASE_URL": self.base_url,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID,
        }

    # --- scripting ----------------------------------------------------------------------------------
    def answer_next(self, *answers: str) -> None:
        """The next POSTs (whoever they are to) get these answers, in order."""
        self._check(answers)
        with self._lock:
            self._next.extend(answers)

    def answer_for(self, to: str, *answers: str) -> None:
        """The next POSTs to ``to`` get these answers, in order; then the default answer."""
        self._check(answers)
        with self._lock:
            self._per_recipient[to].extend(answers)

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        with self._lock:
            self._messages[sid].status = status
            self._messages[sid].error_code = error_code

    @staticmethod
    def _check(answers) -> None:
        unknown = [a for a in answers if a not in ANSWERS]
        if unknown:
            raise ValueError(f"unknown answers {unknown}; choose from {sorted(ANSWERS)}")

    # --- what happened ------------------------------------------------------------------------------
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._log)

    def sends(self) -> list[Recorded]:
        """Every POST to the Messages resource, whatever it was answered."""
        return [r for r in self.requests() if r.method == "POST" and r.path.endswith("/Messages.json")]

    def sends_per_recipient(self) -> Counter:
        return Counter(r.to for r in self.sends())

    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages.values())

    def wait_for_sends(self, count: int, *, timeout: float) -> bool:
        """Block until at least ``count`` POSTs arrived, or ``timeout`` seconds passed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._count_sends() < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
            return True

    def _count_sends(self) -> int:
        return sum(1 for r in self._log if r.method == "POST" and r.path.endswith("/Messages.json"))

    # --- status callbacks ---------------------------------------------------------------------------
    def status_callback(self, sid: str, status: str, *, error_code: int | None = None) -> tuple[str, dict, str]:
        """(url, form, X-Twilio-Signature) of the callback Twilio would post for this message."""
        from twilio.request_validator import RequestValidator

        with self._lock:
            message = self._messages[sid]
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_ or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            form["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        url = message.status_callback or ""
        return url, form, RequestValidator(self.auth_token).compute_signature(url, form)

    def post_status_callback(self, sid: str, status: str, *, error_code: int | None = None, to_url: str = "") -> int:
        """Post the callback as Twilio would (signed for the message's StatusCallback URL).

        ``to_url`` sends it elsewhere (e.g. a live server) while keeping the signature, as a
        TLS-terminating proxy in front of the app would.
        """
        import requests  # Twilio's client depends on it

        url, form, signature = self.status_callback(sid, status, error_code=error_code)
        response = requests.post(to_url or url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
        return response.status_code

    # --- request handling (called from the server's threads) ----------------------------------------
    def _answer_for(self, to: str) -> str:
        with self._lock:
            if self._per_recipient.get(to):
                return self._per_recipient[to].popleft()
            if self._next:
                return self._next.popleft()
            return self.default_answer

    def _record(self, entry: Recorded) -> None:
        with self._changed:
            self._log.append(entry)
            self._changed.notify_all()

    def _create(self, form: dict) -> Message:
        message = Message(
            sid="SM" + uuid.uuid4().hex,
            to=form.get("To", ""),
            from_=form.get("From", ""),
            messaging_service_sid=form.get("MessagingServiceSid"),
            body=form.get("Body", ""),
            status="sent",
            created=dt.datetime.now(dt.UTC),
            status_callback=form.get("StatusCallback"),
            validity_period=form.get("ValidityPeriod"),
            segments=segments_of(form.get("Body", "")),
        )
        with self._lock:
            self._messages[message.sid] = message
        return message

    def _resource(self, message: Message, *, status: str | None = None) -> dict:
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json"
        when = format_datetime(message.created)
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": message.body,
            "date_created": when,
            "date_sent": when,
            "date_updated": when,
            "direction": "outbound-api",
            "error_code": message.error_code,
            "error_message": _ERROR_TEXT.get(message.error_code) if message.error_code else None,
            "from": message.from_ or None,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(message.segments),
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": status or message.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": message.to,
            "uri": uri,
        }

    def _list(self, query: dict) -> dict:
        with self._lock:
            found = list(self._messages.values())
        if "To" in query:
            found = [m for m in found if m.to == query["To"]]
        if "From" in query:
            found = [m for m in found if m.from_ == query["From"]]
        for key, keep in (
            ("DateSent", lambda sent, when, day: sent.date() == when.date() if day else sent == when),
            ("DateSent>", lambda sent, when, day: sent.date() >= when.date() if day else sent >= when),
            ("DateSent<", lambda sent, when, day: sent.date() <= when.date() if day else sent <= when),
        ):
            if key in query:
                when, day = _parse_when(query[key])
                found = [m for m in found if keep(m.created, when, day)]
        found.sort(key=lambda m: m.created, reverse=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return {
            "messages": [self._resource(m) for m in found],
            "end": max(len(found) - 1, 0),
            "first_page_uri": uri,
            "next_page_uri": None,
            "page": 0,
            "page_size": len(found),
            "previous_page_uri": None,
            "start": 0,
            "uri": uri,
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    server_version = "FakeTwilio/1.0"

    def log_message(self, format, *args):  # the drills' output stays readable
        pass

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{self.fake.account_sid}:{self.fake.auth_token}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (it timed out on a hang)

    def _error(self, status: int, code: int | None) -> None:
        payload = {"code": code, "message": _ERROR_TEXT.get(code, "Internal Server Error"), "status": status}
        if code:
            payload["more_info"] = f"https://www.twilio.com/docs/errors/{code}"
        self._send_json(status, payload)

    def _messages_path(self) -> tuple[str, str | None] | None:
        """(account sid, message sid or None) if the path is the Messages resource."""
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["2010-04-01", "Accounts"] and parts[3] == "Messages.json":
            return parts[2], None
        if len(parts) == 5 and parts[:2] == ["2010-04-01", "Accounts"] and parts[3] == "Messages":
            return parts[2], parts[4].removesuffix(".json")
        return None

    def _arrived(self) -> float:
        return self.server.accepted_at.pop(id(self.request), None) or time.time()

    def do_POST(self):
        arrived = self._arrived()
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
        path = urllib.parse.urlsplit(self.path).path
        target = self._messages_path()
        authorised = self._authorised() and bool(target) and target[0] == self.fake.account_sid
        answer = self.fake._answer_for(form.get("To", "")) if authorised and target and not target[1] else "-"
        status = ANSWERS[answer][0] if answer in ANSWERS else (401 if target else 404)
        self.fake._record(Recorded("POST", path, form, arrived, answer, status, authorised))
        if not target or target[1]:
            return self._error(404, 20404)
        if not authorised:
            return self._error(401, 20003)
        status, code, keeps, hangs = ANSWERS[answer]
        message = self.fake._create(form) if keeps else None
        if hangs:
            self.fake._stopping.wait(self.fake.hang_seconds)
            if not keeps:
                return None  # the connection just closes: nothing was sent
        elif self.fake.latency:
            time.sleep(self.fake.latency)
        if status == 201:
            return self._send_json(201, self.fake._resource(message or self.fake._create(form), status="queued"))
        return self._error(status, code)

    def do_GET(self):
        arrived = self._arrived()
        split = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query).items()}
        target = self._messages_path()
        authorised = self._authorised() and bool(target) and target[0] == self.fake.account_sid
        self.fake._record(Recorded("GET", split.path, query, arrived, "-", 200 if authorised else 401, authorised))
        if not target:
            return self._error(404, 20404)
        if not authorised:
            return self._error(401, 20003)
        if self.fake.latency:
            time.sleep(self.fake.latency)
        if target[1] is None:
            return self._send_json(200, self.fake._list(query))
        with self.fake._lock:
            message = self.fake._messages.get(target[1])
        if message is None:
            return self._error(404, 20404)
        return self._send_json(200, self.fake._resource(message))
