from unittest import mock

import pytest


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "outbox": {"stuck": 0, "oldest_stuck_seconds": 0},
        "warnings": [],
    }


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client):
    with mock.patch("config.health.broker_ok", return_value=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=Exception("gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_broker_check_fails_for_an_unreachable_redis():
    from config.health import broker_ok

    # A port nothing listens on: the check must answer quickly and say no.
    assert broker_ok("redis://127.0.0.1:1/0") is False
