"""Start-up checks for SMS settings that parse but would not work (settings.py already refuses the malformed)."""

from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from messaging.text import clean, is_gsm7


@register(Tags.compatibility)
def sms_settings(app_configs, **kwargs):
    problems = []
    sender = clean(settings.SMS_SENDER_NAME)
    if not sender:
        problems.append(
            Error(
                "SMS_SENDER_NAME is empty: PECR requires every marketing text to name its sender.", id="messaging.E001"
            )
        )
    elif not is_gsm7(sender):
        problems.append(
            Warning(
                "SMS_SENDER_NAME has characters outside GSM-7, so every marketing text will cost 2–3× as much.",
                id="messaging.W001",
            )
        )
    if settings.SMS_BACKEND == "twilio":
        host = urlparse(settings.PUBLIC_BASE_URL).hostname or ""
        if host in {"localhost", "127.0.0.1", "::1"} or host.endswith(".local"):
            problems.append(
                Warning(
                    "SMS_BACKEND=twilio but PUBLIC_BASE_URL is a local address: Twilio cannot reach the status "
                    "and inbound webhooks, so delivery reports and STOP replies will not arrive.",
                    id="messaging.W002",
                )
            )
    return problems
