"""Twilio webhooks: status callbacks and inbound texts.

Signatures are checked against PUBLIC_BASE_URL + path + query (not the Host header), so a TLS proxy in
front of us does not break them. Whatever arrives, the answer is 200, 403, 405 or 429 (a flood over
TWILIO_WEBHOOK_RATE), never a 500: Twilio retries on errors, and a callback about a message we do not know
should stop, not repeat.
"""

import functools
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage
from twilio.request_validator import RequestValidator

from messaging import services
from messaging.models import OutboundMessage

logger = logging.getLogger(__name__)
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_MAX_ID = 2**63 - 1


def _field(request, name: str, limit: int) -> str:
    return (request.POST.get(name) or "").replace("\x00", "")[:limit].strip()


def _signature_ok(request, hook: str) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        logger.warning("twilio %s webhook refused: TWILIO_AUTH_TOKEN is not set", hook)
        return False
    if not signature:
        logger.warning("twilio %s webhook refused: no signature", hook)
        return False
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    if not RequestValidator(token).validate(url, request.POST, signature):
        logger.warning("twilio %s webhook refused: bad signature", hook)
        return False
    return True


def _within_global_limit(view):
    """One generous limit for both webhooks together, counted in Redis across every web machine: it stops a
    flood, not Twilio (a briefing at 50 texts/s brings two or three callbacks a text). Fails open: an inbound
    STOP must get through while Redis is down."""

    @functools.wraps(view)
    def limited(request, *args, **kwargs):
        usage = get_usage(
            request,
            group="messaging.twilio.webhooks",
            key=lambda _g, _r: "all",
            rate=settings.TWILIO_WEBHOOK_RATE,
            increment=True,
        )
        # django-ratelimit reports a cache failure as limit 0: let it through.
        if usage and usage["limit"] > 0 and usage["should_limit"]:
            logger.warning("twilio webhooks over TWILIO_WEBHOOK_RATE (%s): answered 429", settings.TWILIO_WEBHOOK_RATE)
            return HttpResponse("Too many requests", status=429, headers={"Retry-After": "1"})
        return view(request, *args, **kwargs)

    return limited


def _message_for_callback(request) -> OutboundMessage | None:
    raw_id = request.GET.get("message", "")
    sid = _field(request, "MessageSid", 64)
    if raw_id.isascii() and raw_id.isdigit() and 0 < int(raw_id) <= _MAX_ID:
        message = OutboundMessage.objects.filter(pk=int(raw_id)).first()
        if message is not None and sid and message.provider_sid and message.provider_sid != sid:
            return None  # a callback for another send of ours, not this row's
        return message
    if sid:
        return OutboundMessage.objects.filter(provider_sid=sid).first()
    return None


@csrf_exempt
@require_POST
@_within_global_limit
def twilio_status(request):
    if not _signature_ok(request, "status"):
        return HttpResponseForbidden("Invalid signature")
    message = _message_for_callback(request)
    if message is None:
        return HttpResponse(status=200)  # unknown to us: 200 so Twilio stops retrying
    services.record_provider_status(
        message,
        sid=_field(request, "MessageSid", 64),
        provider_status=_field(request, "MessageStatus", 40) or _field(request, "SmsStatus", 40),
        error_code=_field(request, "ErrorCode", 16),
    )
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
@_within_global_limit
def twilio_inbound(request):
    if not _signature_ok(request, "inbound"):
        return HttpResponseForbidden("Invalid signature")
    sender = _field(request, "From", 40)
    if sender:
        inbound = services.receive_inbound(
            from_number=sender,
            to_number=_field(request, "To", 40),
            body=_field(request, "Body", 1600),
            provider_sid=_field(request, "MessageSid", 64) or _field(request, "SmsSid", 64),
            provider_keyword=_field(request, "OptOutType", 16),
        )
        logger.info("inbound %s received%s", inbound.pk, f" ({inbound.keyword})" if inbound.keyword else "")
    # We answer through the outbox (rate limit, history), never with TwiML.
    return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
