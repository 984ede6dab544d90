"""No phone number, name or message body reaches the logs: a text sent and delivered, a reply and a STOP
received through the signed webhook, a delegate spreadsheet imported and a search that was not found, with every
log record captured as production writes it (settings.LOGGING's JSON formatter, extras included, and its filter)."""

import io
import logging
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from delegates.imports import import_delegates
from messaging import services
from messaging.models import OutboundMessage
from tests.factories import OrganisationFactory, UnionFactory
from tests.messaging.core_support import post_signed, sms_fixture  # noqa: F401  (the `sms` fixture)

pytestmark = pytest.mark.django_db
SPREADSHEET = Path(__file__).resolve().parents[1] / "delegates" / "fixtures" / "delegates_good.csv"
# What the spreadsheet and the texts below carry, in every way a number is written.
PERSONAL = [
    *("Ada", "Lovelace", "Cath", "Jones", "ada@example.org", "cath@example.org"),
    *("+447700900001", "07700900001", "7700900001", "07700 900001", "+447700900003", "7700 900003"),
    *("Vote FOR composite 3, Ada", "Ada here: see you at the stand", "Lovelace"),
]


@pytest.fixture
def production_logs():
    """Every record from INFO up, formatted with the JSON formatter and filtered as settings.LOGGING does."""
    config = dict(django_settings.LOGGING["formatters"]["json"])
    formatter = config.pop("()").rsplit(".", 1)
    module = __import__(formatter[0], fromlist=[formatter[1]])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(getattr(module, formatter[1])(**config))
    handler.addFilter(__import__("config.logfilters", fromlist=["x"]).StripQueryStringFilter())
    handler.setLevel(logging.INFO)
    # "django" and "django.server" do not propagate to the root (settings.LOGGING): listen to each.
    loggers = [logging.getLogger(name) for name in ("", "django", "django.server")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield stream
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_texts_replies_stops_and_imports_log_no_number_name_or_body(client, conference, sms, production_logs):
    OrganisationFactory(name="Liverpool Walton", gss_code="E14001234", membership=1500)
    UnionFactory(name="Unite the Union")
    report = import_delegates(data=SPREADSHEET.read_bytes(), conference=conference)
    assert report.ok, report.lines()

    message = services.send_sms(to="+447700900001", body="Vote FOR composite 3, Ada", key="log-1", purpose="briefing")
    sms.run_queued()
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    callback = {"MessageSid": message.provider_sid, "MessageStatus": "delivered", "To": "+447700900001"}
    assert post_signed(client, "twilio-status", callback, f"message={message.pk}").status_code == 200
    reply = {"From": "+447700900001", "To": "+447700900999", "MessageSid": "SMlog1"}
    assert post_signed(client, "twilio-inbound", {**reply, "Body": "Ada here: see you at the stand"}).status_code == 200
    stop = {"From": "07700 900003", "To": "+447700900999", "MessageSid": "SMlog2", "Body": "STOP"}
    assert post_signed(client, "twilio-inbound", stop).status_code == 200
    # A page that is not found logs a warning with Django's request attached: its repr has the query string.
    assert client.get("/no-such-page/?q=Lovelace&mobile=07700900001").status_code == 404

    logs = production_logs.getvalue()
    assert "inbound" in logs and "Not Found" in logs  # the records were captured
    leaked = [value for value in PERSONAL if value in logs]
    assert leaked == [], f"personal data in the logs: {leaked}\n{logs}"
