"""The cast mirrors the permissions: two coordinators, a logged-in non-coordinator, an anonymous visitor."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ConferenceFactory, CoordinatorFactory, UserFactory

# The `drill` fixture (the drill's own redis-server, real Celery workers, a fake Twilio) for every drill module,
# wherever it lives; the harness's helpers and DRILL_MARKS are imported from tests/support/drills.py.
pytest_plugins = ["tests.support.drills"]


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


# --- pytest-xdist (make test runs two workers): tests that must not overlap share one worker ------------------
# The drills start Celery workers, redis-servers and a fake Twilio and check rates and timings; two at once on two
# cores would starve each other, so they queue up on one xdist worker. Browser tests share another.
@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if "drill" in item.path.stem:
            item.add_marker(pytest.mark.xdist_group("processes"))
        elif item.path.parent.name == "browser":
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture
def everyone_consents():
    """For tests of the outbox's mechanics with made-up numbers: every number has consent to campaign texts.

    Registered like a domain app's check and removed afterwards; consent itself is tested without it
    (tests/messaging/test_consent_enforced.py).
    """
    from messaging.registry import ConsentDecision, register_consent_check, unregister_consent_check

    allowed = ConsentDecision(True, "test: every number consents")
    register_consent_check("tests:everyone", lambda numbers: dict.fromkeys(numbers, allowed))
    yield
    unregister_consent_check("tests:everyone")
