"""The CSV a coordinator downloads can be edited and imported again."""

import pytest
from django.urls import reverse

from delegates.imports import import_delegates
from delegates.models import Delegate
from tests.factories import DelegateFactory, OrganisationFactory, SmsConsentFactory

pytestmark = pytest.mark.django_db


def _export(client) -> bytes:
    response = client.get(reverse("delegate-export"))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_importing_an_unchanged_export_changes_nothing(coordinator_client, conference):
    clp = OrganisationFactory(name="Wirral West", membership=1200)
    DelegateFactory.create_batch(3, conference=conference, organisation=clp)
    SmsConsentFactory(delegate=DelegateFactory(conference=conference, organisation=clp, is_attending=False))
    DelegateFactory(conference=conference, organisation=clp, mobile="", first_name="Noor", last_name="Mobile")

    report = import_delegates(data=_export(coordinator_client), conference=conference)

    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (0, 0, 5)


def test_an_edited_export_updates_the_delegate_it_names(coordinator_client, conference):
    delegate = DelegateFactory(conference=conference, first_name="Ada", last_name="Smith", email="old@example.org")
    exported = _export(coordinator_client).decode("utf-8-sig")

    report = import_delegates(
        data=exported.replace("old@example.org", "new@example.org").encode(), conference=conference
    )

    assert report.ok, report.lines()
    assert (report.new, report.updated, report.unchanged) == (0, 1, 0)
    assert Delegate.objects.get(pk=delegate.pk).email == "new@example.org"
