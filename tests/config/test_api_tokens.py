"""Personal API tokens: your own only, the key shown once and stored hashed, dead with its user."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import CoordinatorFactory

PAGE = "/account/token/"
KEY = re.compile(r"\b[0-9a-f]{64}\b")


def create_token(client):
    response = client.post(PAGE, {"action": "create"})
    assert response.status_code == 200
    [key] = set(KEY.findall(response.content.decode()))
    return key


def api_status(key, path="/api/conferences/"):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get(path).status_code


def test_a_coordinator_creates_a_token_that_works_and_is_shown_only_once(coordinator_client, conference):
    key = create_token(coordinator_client)

    assert api_status(key) == 200
    page = coordinator_client.get(PAGE).content.decode()
    assert key not in page and key[:8] in page  # recognisable, never shown again
    assert "no-store" in coordinator_client.post(PAGE, {"action": "create"})["Cache-Control"]


def test_the_key_is_stored_only_as_a_hash(coordinator_client, coordinator):
    key = create_token(coordinator_client)

    row = AuthToken.objects.get(user=coordinator)
    assert key not in (row.digest, row.token_key) and len(row.token_key) < len(key)


def test_replacing_a_token_kills_the_old_key_at_once(coordinator_client, conference):
    old = create_token(coordinator_client)
    new = create_token(coordinator_client)

    assert api_status(old) == 401
    assert api_status(new) == 200


def test_revoking_a_token_kills_it(coordinator_client, coordinator, conference):
    key = create_token(coordinator_client)
    coordinator_client.post(PAGE, {"action": "revoke"})

    assert api_status(key) == 401
    assert not AuthToken.objects.filter(user=coordinator).exists()


def test_a_coordinator_never_sees_or_replaces_another_coordinators_token(client, coordinator, second_coordinator):
    AuthToken.objects.create(user=second_coordinator)
    colms_row = AuthToken.objects.get(user=second_coordinator)
    client.force_login(coordinator)

    page = client.get(PAGE).content.decode()
    assert colms_row.token_key[:8] not in page and "You have no API token" in page
    create_token(client)
    assert AuthToken.objects.filter(user=second_coordinator).count() == 1
    # Nor in the admin: tokens there are for superusers only.
    assert client.get(reverse("admin:knox_authtoken_changelist")).status_code == 403
    assert client.get(reverse("admin:knox_authtoken_change", args=[colms_row.pk])).status_code == 403


def test_a_superuser_manages_everyones_tokens_in_the_admin(client, coordinator):
    AuthToken.objects.create(user=coordinator)
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "!"))

    page = client.get(reverse("admin:knox_authtoken_changelist")).content.decode()
    assert "cora" in page


def test_deactivating_a_user_kills_their_tokens(coordinator, conference):
    _, key = AuthToken.objects.create(user=coordinator)
    coordinator.is_active = False
    coordinator.save()

    assert not AuthToken.objects.filter(user=coordinator).exists()
    coordinator.is_active = True
    coordinator.save()
    assert api_status(key) == 401


def test_deleting_a_user_kills_their_tokens(coordinator):
    _, key = AuthToken.objects.create(user=coordinator)
    coordinator.delete()

    assert not AuthToken.objects.exists()
    assert api_status(key) == 401


def test_a_token_whose_user_is_no_longer_a_coordinator_is_refused(coordinator, conference):
    _, key = AuthToken.objects.create(user=coordinator)
    coordinator.groups.clear()

    assert api_status(key) == 403


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_only_coordinators_have_a_token_page(client, outsider, who):
    if who == "outsider":
        client.force_login(outsider)
    response = client.post(PAGE, {"action": "create"})

    assert response.status_code in (302, 403)
    assert not AuthToken.objects.exists()


def test_control_a_second_coordinator_gets_a_token_of_their_own(client, second_coordinator, conference):
    client.force_login(CoordinatorFactory(username="cass", password="!"))
    key = create_token(client)
    assert api_status(key) == 200
