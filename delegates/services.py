"""Writes that touch delegates and their consent. Views and imports call these; nothing else saves them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from delegates.models import Delegate, SmsConsent


def _check_consent_evidence(*, method: str, wording: str, recorded_by, source: str) -> None:
    """What each way of giving consent must leave behind to be proof (PECR): the words, and who or where."""
    errors = {}
    if not (wording or "").strip():
        errors["wording"] = "Record what the person was told they were agreeing to, word for word."
    if method == SmsConsent.Method.IN_PERSON and recorded_by is None:
        errors["recorded_by"] = "Verbal consent needs the coordinator who heard it."
    if method == SmsConsent.Method.IMPORT and not (source or "").strip() and recorded_by is None:
        errors["source"] = "Consent from an imported list needs the list it came from."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def record_sms_consent(
    *, delegate: Delegate, method: str, wording: str, recorded_by=None, given_at=None, source: str = ""
) -> SmsConsent:
    """Record fresh consent, withdrawing any live one first so the history shows each grant.

    ``source``: where it came from (the imported file, a paper form's reference); verbal consent needs
    ``recorded_by``, the coordinator who heard it. ValidationError per field when the proof is incomplete.
    """
    _check_consent_evidence(method=method, wording=wording, recorded_by=recorded_by, source=source)
    now = timezone.now()
    SmsConsent.objects.filter(delegate=delegate, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawal_reason="Replaced by a newer consent"
    )
    return SmsConsent.objects.create(
        delegate=delegate,
        method=method,
        wording=wording,
        recorded_by=recorded_by,
        given_at=given_at or now,
        source=source[:200],
    )


@transaction.atomic
def withdraw_sms_consent(*, delegate: Delegate, reason: str) -> int:
    return SmsConsent.objects.filter(delegate=delegate, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawal_reason=reason[:200]
    )


@transaction.atomic
def record_imported_sms_consents(
    *, consents: list[tuple[int, str, str]], recorded_by=None, source: str = ""
) -> list[SmsConsent]:
    """Consent from an imported file, for many delegates at once: ``(delegate_id, method, wording)`` each.

    The same rule as record_sms_consent (a live consent is withdrawn, kept as history, then the new one
    recorded), in two queries whatever the size of the file. ``source``: the file it came from.
    """
    now = timezone.now()
    SmsConsent.objects.filter(delegate_id__in=[c[0] for c in consents], withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawal_reason="Replaced by a newer consent"
    )
    return SmsConsent.objects.bulk_create(
        SmsConsent(
            delegate_id=delegate_id,
            method=method,
            wording=wording,
            recorded_by=recorded_by,
            given_at=now,
            source=source[:200],
        )
        for delegate_id, method, wording in consents
    )


# --- Erasure (data protection) ------------------------------------------------------------------------------------

ERASED_WORDING = "[removed on erasure: it named the person]"


def _names_the_person(text: str, delegate: Delegate) -> bool:
    """Whether consent wording or a reason quotes the delegate's own name, email or number."""
    lowered = (text or "").lower()
    tokens = [delegate.first_name, delegate.last_name, delegate.email, delegate.mobile, delegate.mobile[3:]]
    return any(len(token) > 2 and token.lower() in lowered for token in tokens if token)


@transaction.atomic
def erase_delegates(*, delegate_ids, now=None) -> dict[str, int]:
    """Anonymise delegates: names, mobile, email, notes and gender go; the row, its organisation, conference,
    seat type and attendance stay (with ``erased_at``), so card votes and whip totals do not change.

    Consents stay as evidence that consent existed and when it ended: a live one is withdrawn ("erased"), and
    wording or a withdrawal reason quoting the person is replaced. Already erased delegates are left alone, so
    erasing twice changes nothing. Returns counts only.
    """
    now = now or timezone.now()
    delegates = list(Delegate.objects.select_for_update().filter(pk__in=list(delegate_ids), erased_at__isnull=True))
    if not delegates:
        return {"delegates": 0, "consents": 0}
    by_id = {d.pk: d for d in delegates}
    consents = list(SmsConsent.objects.select_for_update().filter(delegate_id__in=by_id))
    for consent in consents:
        delegate = by_id[consent.delegate_id]
        if consent.withdrawn_at is None:
            consent.withdrawn_at, consent.withdrawal_reason = now, "Erased on request or after retention"
        if _names_the_person(consent.wording, delegate):
            consent.wording = ERASED_WORDING
        if _names_the_person(consent.withdrawal_reason, delegate):
            consent.withdrawal_reason = ERASED_WORDING[:200]
    SmsConsent.objects.bulk_update(consents, ["withdrawn_at", "withdrawal_reason", "wording"], batch_size=500)
    erased = Delegate.objects.filter(pk__in=by_id).update(
        first_name="",
        last_name="",
        mobile="",
        email="",
        notes="",
        gender=Delegate.Gender.NOT_STATED,
        erased_at=now,
        updated_at=now,
    )
    return {"delegates": erased, "consents": len(consents)}
