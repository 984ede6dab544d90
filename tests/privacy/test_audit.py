"""The access audit: any app reports through config.audit; privacy writes an AuditEvent with no personal data."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from config import audit
from privacy.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_record_access_writes_one_audit_event_with_who_what_and_how_many(coordinator):
    audit.record_access(action=audit.EXPORT, what="delegates CSV export", count=12, actor=coordinator,
                        detail={"conference": 1})  # fmt: skip

    event = AuditEvent.objects.get()
    assert (event.action, event.what, event.count, event.actor, event.detail) == (
        "export",
        "delegates CSV export",
        12,
        coordinator,
        {"conference": 1},
    )


def test_an_anonymous_or_missing_actor_is_stored_as_nobody():
    audit.record_access(action=audit.RETENTION, what="retention run", count=0, actor=AnonymousUser())
    audit.record_access(action=audit.RETENTION, what="retention run", count=0)

    assert list(AuditEvent.objects.values_list("actor", flat=True)) == [None, None]


def test_an_unknown_action_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.record_access(action="peek", what="x", count=1)
    assert not AuditEvent.objects.exists()


def test_config_actions_are_exactly_the_audit_event_choices():
    assert set(audit.ACTIONS) == set(AuditEvent.Action.values)


# --- The audit page: every coordinator sees it --------------------------------------------------------------------
AUDIT_URL = "/privacy/audit/"


def _event(action, what, *, at, actor=None, count=1):
    return AuditEvent.objects.create(action=action, what=what, count=count, actor=actor, at=at)


def test_the_audit_page_is_for_every_coordinator_and_nobody_else(client, outsider, coordinator):
    response = client.get(AUDIT_URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(outsider)
    assert client.get(AUDIT_URL).status_code == 403
    client.force_login(coordinator)  # no data protection permission needed to read the audit
    assert client.get(AUDIT_URL).status_code == 200


def test_the_audit_page_lists_events_newest_first_with_who_and_how_many(coordinator_client, coordinator):
    _event("export", "delegates CSV export", at=dt.datetime(2027, 9, 26, 9, tzinfo=dt.UTC), actor=coordinator,
           count=1300)  # fmt: skip
    _event("retention", "retention run", at=dt.datetime(2027, 12, 29, 3, tzinfo=dt.UTC))

    page = coordinator_client.get(AUDIT_URL).content.decode()

    assert page.index("Retention run") < page.index("delegates CSV export")
    assert "1300" in page and "Cora" in page and "the system" in page


def test_the_audit_page_filters_by_action_and_by_whole_days(coordinator_client):
    _event("export", "early export", at=dt.datetime(2027, 9, 25, 23, tzinfo=dt.UTC))  # 26 Sep 00:00 in London
    _event("export", "late export", at=dt.datetime(2027, 9, 27, 12, tzinfo=dt.UTC))
    _event("import", "delegates import", at=dt.datetime(2027, 9, 26, 12, tzinfo=dt.UTC))

    by_action = coordinator_client.get(AUDIT_URL, {"action": "import"}).content.decode()
    by_day = coordinator_client.get(AUDIT_URL, {"since": "2027-09-26", "until": "2027-09-26"}).content.decode()

    assert "delegates import" in by_action and "export" not in by_action.split("<tbody>")[1]
    assert "early export" in by_day and "delegates import" in by_day and "late export" not in by_day


@pytest.mark.parametrize(
    "params", [{"action": "peek"}, {"since": "yesterday"}, {"since": "2027-09-27", "until": "2027-09-26"}]
)
def test_bad_filters_show_a_field_error_not_a_500(coordinator_client, params):
    response = coordinator_client.get(AUDIT_URL, params)
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()


def test_the_audit_page_is_paginated_and_its_query_count_does_not_grow(
    coordinator_client, coordinator, django_assert_max_num_queries
):
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(action="export", what=f"export {i}", count=i, actor=coordinator, at=now) for i in range(120)
    )
    # session, user, coordinators group, count, the user's and their groups' permissions (the "Subject access"
    # button), the page of events with their actors
    with django_assert_max_num_queries(7):
        response = coordinator_client.get(AUDIT_URL, {"page": 2})
    assert "Page 2 of 3" in response.content.decode()
    with django_assert_max_num_queries(7):
        coordinator_client.get(AUDIT_URL, {"page": 99})  # past the end: the last page, not a 404
