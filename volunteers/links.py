"""Signed links: a volunteer's private "my shifts" page and one-tap "cover this shift" links.

The token carries only ids, signed with SECRET_KEY (django.core.signing): opaque to the reader, no personal data,
and a tampered or expired one is refused.
"""

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

MY_SHIFTS_SALT = "volunteers.my-shifts"
COVER_SALT = "volunteers.cover"


def my_shifts_token(volunteer_id: int) -> str:
    return signing.dumps(volunteer_id, salt=MY_SHIFTS_SALT)


def volunteer_id_from_token(token: str) -> int | None:
    """The volunteer's id, or None if the token is tampered with or older than VOLUNTEER_LINK_MAX_AGE_DAYS."""
    max_age = dt.timedelta(days=settings.VOLUNTEER_LINK_MAX_AGE_DAYS)
    try:
        value = signing.loads(token, salt=MY_SHIFTS_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def cover_token(volunteer_id: int, shift_id: int) -> str:
    return signing.dumps([volunteer_id, shift_id], salt=COVER_SALT)


def ids_from_cover_token(token: str) -> tuple[int, int] | None:
    try:
        value = signing.loads(token, salt=COVER_SALT, max_age=dt.timedelta(days=2))
    except signing.BadSignature:
        return None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def my_shifts_url(volunteer_id: int) -> str:
    return absolute(reverse("volunteers:my-shifts", args=[my_shifts_token(volunteer_id)]))


def cover_url(volunteer_id: int, shift_id: int) -> str:
    return absolute(reverse("volunteers:cover", args=[cover_token(volunteer_id, shift_id)]))
