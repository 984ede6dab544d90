"""Texts that wait in the queue for minutes are shown: on the dashboard and in /healthz (still a 200)."""

import datetime as dt

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.models import OutboundMessage
from messaging.selectors import stuck_outbox
from tests.messaging.core_support import sms_fixture  # noqa: F401  (fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("everyone_consents")]
Status = OutboundMessage.Status


def queue(n: int) -> OutboundMessage:
    return services.send_sms(to=f"+447700900{n:03d}", body=f"Text {n}", key=f"stuck:{n}", purpose="test")


def age(message: OutboundMessage, minutes: int) -> None:
    """As if it was queued ``minutes`` ago (and the sweeper kept re-queuing it, as it does)."""
    OutboundMessage.objects.filter(pk=message.pk).update(
        updated_at=F("updated_at") - dt.timedelta(minutes=minutes), next_attempt_at=timezone.now()
    )


def test_a_text_queued_ten_minutes_ago_is_stuck_and_a_fresh_one_is_not(sms):
    age(queue(1), 10)
    age(queue(2), 7)
    queue(3)
    stuck = stuck_outbox()
    assert stuck.count == 2
    assert 10 * 60 <= stuck.oldest_seconds < 11 * 60
    assert "2 texts have waited in the queue" in stuck.describe()
    assert "celery -A config worker" in stuck.describe()


def test_sent_texts_and_texts_waiting_for_a_later_retry_are_not_stuck(sms):
    sent = queue(1)
    age(sent, 30)
    OutboundMessage.objects.filter(pk=sent.pk).update(status=Status.SENT)
    later = queue(2)
    age(later, 30)
    OutboundMessage.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + dt.timedelta(minutes=2))
    assert not stuck_outbox()
    assert stuck_outbox().describe() == "no texts stuck in the queue"


def test_stuck_outbox_is_one_query_whatever_the_number_of_rows(sms, django_assert_num_queries):
    for n in range(30):
        age(queue(n), 10)
    with django_assert_num_queries(1):
        assert stuck_outbox().count == 30


def test_healthz_says_what_is_stuck_and_stays_200(client, sms):
    assert client.get("/healthz").json()["outbox"] == {"stuck": 0, "oldest_stuck_seconds": 0}
    age(queue(1), 12)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["outbox"]["stuck"] == 1
    assert body["outbox"]["oldest_stuck_seconds"] >= 12 * 60
    assert "1 text has waited in the queue" in body["warnings"][0]
    assert "+44" not in response.content.decode()  # ids and counts only, no numbers


def test_dashboard_warns_about_stuck_texts_at_the_top(coordinator_client, conference, sms):
    assert "waited in the queue" not in coordinator_client.get(reverse("dashboard")).content.decode()
    age(queue(1), 6)
    html = coordinator_client.get(reverse("dashboard")).content.decode()
    assert "flash-error" in html
    assert "1 text has waited in the queue for more than 5 minutes" in html
