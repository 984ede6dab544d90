"""The API throttles per user (a token is its user's) and per anonymous address, in the shared cache."""

import pytest
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from config.security import AnonThrottle, UserThrottle
from tests.factories import CoordinatorFactory


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(UserThrottle, "rate", "3/minute", raising=False)
    monkeypatch.setattr(AnonThrottle, "rate", "3/minute", raising=False)
    cache.clear()
    yield
    cache.clear()


def api_for(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_user_over_the_rate_gets_429_whichever_client_they_use(db, conference, three_a_minute):
    cora = CoordinatorFactory(username="cora", password="!")
    # Two separate clients (two laptops, two worker processes behind a balancer): one count, in the cache.
    first, second = api_for(cora), api_for(cora)
    statuses = [client.get("/api/conferences/").status_code for client in (first, second, first, second)]

    assert statuses == [200, 200, 200, 429]
    assert "Retry-After" in first.get("/api/conferences/")


def test_control_another_user_has_their_own_allowance(db, conference, three_a_minute):
    cora, colm = CoordinatorFactory(username="cora", password="!"), CoordinatorFactory(username="colm", password="!")
    for _ in range(3):
        api_for(cora).get("/api/conferences/")

    assert api_for(colm).get("/api/conferences/").status_code == 200


def test_the_throttle_counts_live_in_the_shared_cache_not_process_memory(db, conference, three_a_minute):
    cora = CoordinatorFactory(username="cora", password="!")
    api_for(cora).get("/api/conferences/")

    assert cache.get(f"throttle_user_{cora.pk}")


def test_anonymous_clients_are_throttled_by_their_address(three_a_minute):
    throttle = AnonThrottle()
    wrapped = Request(APIRequestFactory().get("/api/", REMOTE_ADDR="10.1.1.1"))
    results = [throttle.allow_request(wrapped, None) for _ in range(4)]

    assert results == [True, True, True, False]
    assert cache.get("throttle_anon_10.1.1.1")
