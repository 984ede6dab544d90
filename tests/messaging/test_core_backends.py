"""Backend choice, the console backend, and the start-up checks on SMS settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging import checks, services, tasks
from messaging.backends import get_backend
from messaging.backends.console import ConsoleBackend
from messaging.backends.twilio import TwilioBackend, classify
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("everyone_consents")


def test_the_backend_follows_the_setting(settings):
    settings.SMS_BACKEND = "console"
    assert isinstance(get_backend(), ConsoleBackend)
    assert isinstance(get_backend("twilio"), TwilioBackend)


def test_an_unknown_backend_name_is_a_clear_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="SMS_BACKEND must be one of"):
        get_backend("carrier-pigeon")


@pytest.mark.django_db
def test_the_console_backend_prints_a_masked_number_and_marks_the_text_sent(sms, settings, capsys):
    settings.SMS_BACKEND = "console"
    message = services.send_sms(to="+447700900001", body="Vote FOR", key="k", purpose="test")
    assert sms.run_queued() == ["sent"]
    printed = capsys.readouterr().out
    assert "Vote FOR" in printed and "+447700900001" not in printed and "001" in printed
    message.refresh_from_db()
    assert message.status == "sent"


def test_an_empty_sender_name_fails_the_start_up_check(settings):
    settings.SMS_SENDER_NAME = "  "
    assert [e.id for e in checks.sms_settings(None)] == ["messaging.E001"]


def test_twilio_with_a_local_public_url_warns_that_webhooks_cannot_arrive(settings):
    settings.SMS_BACKEND = "twilio"
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    assert [e.id for e in checks.sms_settings(None)] == ["messaging.W002"]
    settings.PUBLIC_BASE_URL = "https://cardvote.example.org"
    assert checks.sms_settings(None) == []


def test_a_sender_name_outside_gsm7_warns_about_cost(settings):
    settings.SMS_SENDER_NAME = "Free Movement ✊"
    assert [e.id for e in checks.sms_settings(None)] == ["messaging.W001"]


def test_an_unexpected_client_error_counts_as_unknown_not_as_safe_to_retry():
    error = classify(ValueError("bad JSON"))
    assert type(error).__name__ == "UnknownOutcomeError"


def test_a_live_worker_is_stopped_before_its_claim_could_look_stale():
    assert tasks.deliver_outbound.time_limit < tasks.stale_sending_seconds()
    assert tasks.stale_sending_seconds() >= tasks.RATE_MAX_WAIT_SECONDS + 2 * 10  # rate wait + connect + read
