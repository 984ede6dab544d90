import pytest
from django.urls import reverse

from messaging.models import InboundMessage
from messaging.registry import resolve_contacts
from tests.factories import ConferenceFactory, DelegateFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def test_the_replies_inbox_names_the_delegate_behind_a_number(coordinator_client, conference):
    delegate = DelegateFactory(
        conference=conference,
        first_name="Nadia",
        last_name="Okafor",
        mobile="+447700900321",
        organisation=OrganisationFactory(name="Wirral West"),
    )
    InboundMessage.objects.create(from_number=delegate.mobile, body="Will vote for", provider_sid="SMx1")

    response = coordinator_client.get(reverse("inbox:list"))

    assert "Nadia Okafor (delegate, Wirral West)" in response.content.decode()
    assert reverse("delegate-detail", args=[delegate.pk]) in response.content.decode()


def test_a_number_at_two_conferences_resolves_to_the_newest_delegate(conference):
    older = ConferenceFactory(slug="lab26", name="2026", starts_on="2026-09-27", ends_on="2026-09-30", is_current=False)
    DelegateFactory(conference=older, first_name="Old", mobile="+447700900555")
    DelegateFactory(conference=conference, first_name="New", mobile="+447700900555")

    assert resolve_contacts({"+447700900555"})["+447700900555"].label.startswith("New ")


def test_unknown_numbers_resolve_to_nobody(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert resolve_contacts(set()) == {}
    assert resolve_contacts({"+447700900999"}) == {}
