"""Tells the messaging pages which delegate a number belongs to, without messaging importing us."""

from django.urls import reverse

from delegates.models import Delegate
from messaging.registry import Contact


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
