"""Admin for the outbox, replies and opt-outs: masked numbers in lists, search by number, flat query counts."""

import pytest
from django.urls import reverse

from messaging import services
from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage
from tests.factories import UserFactory
from tests.messaging.core_support import sms_fixture  # noqa: F401  (the `sms` fixture)

# Outbox mechanics with made-up numbers: every number counts as consenting (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("everyone_consents")]
CHANGELISTS = ["outboundmessage", "outboundstatuschange", "inboundmessage", "optout", "optoutevent"]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def fill(n: int, start: int = 0):
    for i in range(start, start + n):
        number = f"+447700900{i:03d}"
        message = services.send_sms(to=number, body="Vote FOR", key=f"admin:{i}", purpose="briefing")
        services.receive_inbound(from_number=number, to_number="+447700900999", body="FOR", provider_sid=f"SM{i}")
        if i % 5 == 0:
            services.opt_out(number, source=OptOutEvent.Source.COORDINATOR)
        assert message.pk


@pytest.mark.parametrize("model", CHANGELISTS)
def test_each_list_shows_masked_numbers_only(admin_client, sms, model):
    fill(3)
    response = admin_client.get(reverse(f"admin:messaging_{model}_changelist"))
    assert response.status_code == 200
    assert "+447700900001" not in response.content.decode()


# Every list: session, user, the paginator's count, the page of rows (replies: handled_by joined in).
# Then per list: outbox and replies: the date hierarchy's range and days, and the distinct values for
# the purpose and encoding (outbox) or keyword and purpose (replies) filters; history: to_status's values.
QUERY_BOUNDS = {"outboundmessage": 8, "outboundstatuschange": 5, "inboundmessage": 8, "optout": 4, "optoutevent": 4}


@pytest.mark.parametrize(("model", "bound"), QUERY_BOUNDS.items())
def test_list_query_counts_do_not_grow_with_the_data(admin_client, sms, model, bound, django_assert_max_num_queries):
    url = reverse(f"admin:messaging_{model}_changelist")
    fill(10)
    with django_assert_max_num_queries(bound):
        assert admin_client.get(url).status_code == 200
    fill(50, start=10)
    with django_assert_max_num_queries(bound):
        assert admin_client.get(url).status_code == 200


def test_searching_a_number_as_people_type_it_finds_that_number_exactly(admin_client, sms):
    fill(12)
    response = admin_client.get(reverse("admin:messaging_outboundmessage_changelist"), {"q": "07700 900011"})
    rows = list(response.context["cl"].result_list)
    assert [m.to for m in rows] == ["+447700900011"]


def test_a_message_page_shows_its_status_history(admin_client, sms):
    message = services.send_sms(to="+447700900001", body="Vote FOR", key="k", purpose="briefing")
    sms.run_queued()
    page = admin_client.get(reverse("admin:messaging_outboundmessage_change", args=[message.pk])).content.decode()
    assert "claimed by a worker" in page and "accepted by the provider" in page


def test_the_outbox_cannot_be_edited_or_added_to_in_the_admin(admin_client, sms):
    message = services.send_sms(to="+447700900001", body="Vote FOR", key="k", purpose="briefing")
    url = reverse("admin:messaging_outboundmessage_change", args=[message.pk])
    admin_client.post(url, {"status": "delivered"})
    message.refresh_from_db()
    assert message.status == "queued"
    assert admin_client.get(reverse("admin:messaging_outboundmessage_add")).status_code == 403


def test_the_opt_out_list_cannot_be_added_to_in_the_admin_even_by_a_superuser(admin_client, sms):
    # Coordinators opt a number out from the replies pages, through the service that writes the event.
    response = admin_client.post(reverse("admin:messaging_optout_add"), {"number": "07700 900042"})
    assert response.status_code == 403
    assert not OptOut.objects.exists() and not OptOutEvent.objects.exists()


def test_replies_can_be_marked_handled_in_bulk(admin_client, sms):
    fill(3)
    ids = list(InboundMessage.objects.values_list("pk", flat=True))
    admin_client.post(
        reverse("admin:messaging_inboundmessage_changelist"), {"action": "mark_handled", "_selected_action": ids}
    )
    assert set(InboundMessage.objects.values_list("handled", flat=True)) == {True}
    assert OutboundMessage.objects.count() == 3
