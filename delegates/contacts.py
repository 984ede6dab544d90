"""Tells messaging which delegate a number belongs to, and whether they consented to texts, without messaging
importing us."""

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from delegates.models import Delegate, SmsConsent
from messaging.registry import ConsentDecision, Contact


def delegates_by_number(numbers: set[str]) -> dict[str, Contact]:
    """One query; the newest conference's delegate wins when a number appears at several."""
    found: dict[str, Contact] = {}
    delegates = (
        Delegate.objects.filter(mobile__in=numbers)
        .select_related("organisation")
        .order_by("-conference__starts_on", "pk")
        .only("pk", "first_name", "last_name", "mobile", "organisation__name")
    )
    for delegate in delegates:
        if delegate.mobile not in found:
            found[delegate.mobile] = Contact(
                label=f"{delegate.full_name} (delegate, {delegate.organisation.name})",
                url=reverse("delegate-detail", args=[delegate.pk]),
            )
    return found


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y")


def sms_consent_by_number(numbers: set[str]) -> dict[str, ConsentDecision]:
    """messaging's consent check (PECR) for campaign texts: one query for any number of numbers.

    Allowed when any delegate with that mobile has live SMS consent (two delegates may share a number, one of
    them consenting); refused as withdrawn when every consent on record for the number was withdrawn.
    """
    found: dict[str, ConsentDecision] = {}
    rows = (
        SmsConsent.objects.filter(delegate__mobile__in=numbers)
        .order_by("-given_at", "-pk")
        .values_list("delegate__mobile", "given_at", "withdrawn_at", "method")
    )
    methods = dict(SmsConsent.Method.choices)
    for mobile, given_at, withdrawn_at, method in rows:
        current = found.get(mobile)
        if current is not None and current.allowed:
            continue
        if withdrawn_at is None:
            found[mobile] = ConsentDecision(
                True, f"delegate's SMS consent given {_day(given_at)} ({methods.get(method, method).lower()})"
            )
        elif current is None:  # the newest withdrawn consent, unless a live one turns up
            found[mobile] = ConsentDecision(False, f"consent withdrawn on {_day(withdrawn_at)}")
    return found
