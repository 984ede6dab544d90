"""Schemathesis against /api/schema/ as a coordinator (a personal token), through the WSGI app in-process: for
every operation, bounded generated requests, valid and not; every answer matches the schema (status code,
content type, body) and none is a 500. New endpoints are covered without editing this file."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory, UnionFactory

# Per operation and mode (valid data, invalid data): ~45 operations × 2 × this many. Bounded on purpose (CI speed).
EXAMPLES_PER_OPERATION = 6
TOKEN = {}
# What the issue asks: never a 500; status code, content type and body as the schema declares them. Not
# schemathesis' strictness checks (e.g. that `?page=` is refused): DRF ignores a bad page size, on purpose.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """The real WSGI app inside the test's transaction: like Django's test client, it must not close the
    database connection when a request ends (close_old_connections), or the test's transaction goes with it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, wsgi_app, conference, coordinator):
    """The schema as a coordinator reads it, with a few organisations and delegates for the lists to show."""
    clp = OrganisationFactory(name="Ynys Môn", secretary_email="secretary@ynys-môn.example.org")
    UnionFactory(name="Unite the Union")
    for _ in range(3):
        SmsConsentFactory(delegate=DelegateFactory(conference=conference, organisation=clp))
    _, key = AuthToken.objects.create(coordinator)
    TOKEN["header"] = f"Token {key}"
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": TOKEN["header"]}
    )


@pytest.mark.django_db
def test_every_api_answer_matches_the_schema_and_none_is_a_500(api_schema):
    failures = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 40  # the schema was read whole
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,  # no .hypothesis/ folder in the checkout
                derandomize=True,  # the same examples every run: a failure in CI is a failure on a laptop
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure as found
            )
            def fuzz(case):
                case.call_and_validate(headers={"Authorization": TOKEN["header"]}, checks=CHECKS)

            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as exc:  # failed checks, with the request that caused them
                failures[f"{mode.value} {operation.label}"] = str(exc)[:2000]
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
