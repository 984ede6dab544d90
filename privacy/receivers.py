"""Writes the access audit: `config.audit.record_access` reports, this stores (connected in PrivacyConfig.ready)."""

from privacy.models import AuditEvent


def write_audit_event(*, action, what, count, actor, detail, **kwargs):
    AuditEvent.objects.create(action=action, what=what[:200], count=max(count, 0), actor=actor, detail=detail)
