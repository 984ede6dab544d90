"""Twilio, through the official client, aimed at settings.TWILIO_API_BASE_URL so staging and tests can use a mock.

Failures are sorted the way healthchecks' transport does it: a refusal we can retry (429, connection
refused), a refusal for good (21211, 21614, 21610, …), and "we cannot tell" (timeout, 5xx), which must
never be retried blindly because Twilio may already have the message.
"""

import contextvars
import functools
import logging
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from messaging.backends.base import (
    BaseBackend,
    PermanentSendError,
    RequestLeft,
    SendResult,
    TransientSendError,
    UnknownOutcomeError,
)
from messaging.errors import explain

logger = logging.getLogger(__name__)

# Twilio holds a message in its queue for at most this long (ValidityPeriod's upper bound).
MAX_VALIDITY_SECONDS = 36000
# Codes that are worth retrying later although Twilio answered 4xx.
_TRANSIENT_CODES = {"20429", "20003", "20005", "30001"}


class _QuietHttpClient(TwilioHttpClient):
    """The stock client logs query strings at INFO, which would put phone numbers in our logs."""

    def log_request(self, kwargs):
        pass

    def log_response(self, status_code, response):
        pass


# "The request has left" (see BaseBackend.send): set by TwilioBackend.send around its one POST, called by the
# connection below between writing the request and reading the answer. A context variable, so each thread or
# task sees only its own.
_request_left: contextvars.ContextVar[RequestLeft] = contextvars.ContextVar("sms_request_left", default=None)


def _tell_request_left() -> None:
    left = _request_left.get()
    if left is None:
        return
    _request_left.set(None)  # once, whatever follows
    try:
        left()
    except Exception as exc:  # never break a request that has gone out: its outcome must still be read
        logger.warning("sms: request-left callback raised %s", type(exc).__name__)


class _LeftHTTPConnection(HTTPConnection):
    def getresponse(self, *args, **kwargs):
        _tell_request_left()
        return super().getresponse(*args, **kwargs)


class _LeftHTTPSConnection(HTTPSConnection):
    def getresponse(self, *args, **kwargs):
        _tell_request_left()
        return super().getresponse(*args, **kwargs)


class _LeftHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _LeftHTTPConnection


class _LeftHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _LeftHTTPSConnection


class _RequestLeftAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, with connections that say when a request has been written (urllib3 writes the whole
    request, then waits for the answer in getresponse)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _LeftHTTPConnectionPool, "https": _LeftHTTPSConnectionPool}


@functools.lru_cache(maxsize=4)
def _client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Client:
    http_client = _QuietHttpClient(timeout=timeout)
    adapter = _RequestLeftAdapter(pool_maxsize=32)
    http_client.session.mount("https://", adapter)
    http_client.session.mount("http://", adapter)
    client = Client(account_sid, auth_token, http_client=http_client)
    # The Api domain builds every Messages URL from this attribute.
    client.api.base_url = base_url
    return client


def get_client() -> Client:
    return _client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL,
        float(settings.TWILIO_TIMEOUT_SECONDS),
    )


def status_callback_url(message_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('twilio-status')}?message={message_id}"


def _is_connect_failure(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached Twilio (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = exc.args[0]
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # NewConnectionError and NameResolutionError are ConnectTimeoutError subclasses in urllib3 2.
        return isinstance(reason, ConnectTimeoutError | ConnectionRefusedError)
    return False


def classify(exc: Exception) -> Exception:
    """Turn what the Twilio client raised into one of our three send errors."""
    if isinstance(exc, TwilioRestException):
        code = str(exc.code or "")
        message = explain(code) or (exc.msg or "")[:200]
        if exc.status == 429 or code in _TRANSIENT_CODES or exc.status in (401, 403):
            return TransientSendError(code or exc.status, message or f"HTTP {exc.status}")
        if exc.status >= 500:
            return UnknownOutcomeError(code or exc.status, message or f"Twilio answered HTTP {exc.status}")
        return PermanentSendError(code or exc.status, message or f"Twilio refused the message (HTTP {exc.status})")
    if isinstance(exc, requests.RequestException):
        if _is_connect_failure(exc):
            return TransientSendError("connect", "Could not connect to Twilio")
        if isinstance(exc, requests.Timeout):
            return UnknownOutcomeError("timeout", "Twilio did not answer in time")
        return UnknownOutcomeError("network", f"Connection to Twilio broke ({type(exc).__name__})")
    return UnknownOutcomeError("error", f"Unexpected answer from Twilio ({type(exc).__name__})")


class TwilioBackend(BaseBackend):
    name = "twilio"

    def send(self, message, *, left: RequestLeft = None) -> SendResult:
        params = {
            "to": message.to,
            "body": message.body,
            "status_callback": status_callback_url(message.pk),
        }
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        if message.useless_after:
            seconds = int((message.useless_after - timezone.now()).total_seconds())
            if seconds < 1:
                raise PermanentSendError("expired", "Past its useless-after time")
            if seconds < MAX_VALIDITY_SECONDS:
                params["validity_period"] = seconds
        token = _request_left.set(left)
        try:
            created = get_client().messages.create(**params)
        except (TwilioException, requests.RequestException, ValueError) as exc:
            raise classify(exc) from exc
        finally:
            _request_left.reset(token)
        if not created.sid:
            raise UnknownOutcomeError("no-sid", "Twilio answered without a message SID")
        return SendResult(
            sid=created.sid, status=created.status or "queued", segments=_int_or_none(created.num_segments)
        )

    def find_sent(self, to: str, since: datetime) -> list[tuple[str, str]]:
        # Twilio filters on the date sent; a message still in its queue may have none, so ask from a minute earlier.
        try:
            found = get_client().messages.list(to=to, date_sent_after=since - timedelta(minutes=1), limit=50)
        except (TwilioException, requests.RequestException, ValueError) as exc:
            raise classify(exc) from exc
        result = []
        for item in found:
            created = item.date_created or item.date_sent
            if created is not None and created < since - timedelta(minutes=1):
                continue
            if item.sid:
                result.append((item.sid, str(item.status or "")))
        return result


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
