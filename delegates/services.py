"""Writes that touch delegates and their consent. Views and imports call these; nothing else saves them."""

from django.db import transaction
from django.utils import timezone

from delegates.models import Delegate, SmsConsent


@transaction.atomic
def record_sms_consent(*, delegate: Delegate, method: str, wording: str, recorded_by=None, given_at=None) -> SmsConsent:
    """Record fresh consent, withdrawing any live one first so the history shows each grant."""
    now = timezone.now()
    SmsConsent.objects.filter(delegate=delegate, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawal_reason="Replaced by a newer consent"
    )
    return SmsConsent.objects.create(
        delegate=delegate, method=method, wording=wording, recorded_by=recorded_by, given_at=given_at or now
    )


@transaction.atomic
def withdraw_sms_consent(*, delegate: Delegate, reason: str) -> int:
    return SmsConsent.objects.filter(delegate=delegate, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawal_reason=reason[:200]
    )


@transaction.atomic
def record_imported_sms_consents(*, consents: list[tuple[int, str, str]], recorded_by=None) -> list[SmsConsent]:
    """Consent from an imported file, for many delegates at once: ``(delegate_id, method, wording)`` each.

    The same rule as record_sms_consent (a live consent is withdrawn, kept as history, then the new one
    recorded), in two queries whatever the size of the file.
    """
    now = timezone.now()
    SmsConsent.objects.filter(delegate_id__in=[c[0] for c in consents], withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawal_reason="Replaced by a newer consent"
    )
    return SmsConsent.objects.bulk_create(
        SmsConsent(delegate_id=delegate_id, method=method, wording=wording, recorded_by=recorded_by, given_at=now)
        for delegate_id, method, wording in consents
    )
