"""The access audit: any app reports through config.audit; privacy writes an AuditEvent with no personal data."""

import pytest
from django.contrib.auth.models import AnonymousUser

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
