"""The cast mirrors the permissions: two coordinators, a logged-in non-coordinator, an anonymous visitor."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ConferenceFactory, CoordinatorFactory, UserFactory


@pytest.fixture
def conference(db):
    return ConferenceFactory()


@pytest.fixture
def coordinator(db):
    return CoordinatorFactory(username="cora", first_name="Cora")


@pytest.fixture
def second_coordinator(db):
    return CoordinatorFactory(username="colm", first_name="Colm")


@pytest.fixture
def outsider(db):
    """Logged in, but not a coordinator (e.g. a volunteer who was given an account by mistake)."""
    return UserFactory(username="olly")


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def api_client(coordinator):
    api = APIClient()
    api.force_authenticate(coordinator)
    return api
