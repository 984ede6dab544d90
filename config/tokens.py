"""Personal API tokens (django-rest-knox): one per coordinator, its key shown once, only its hash stored.

A coordinator sees and rotates only their own token (/account/token/). Superusers manage anyone's in the admin.
Deleting a user deletes their tokens (a foreign key); deactivating one deletes them too (config/signals.py).
"""

from django.conf import settings
from django.db import transaction
from knox.models import AuthToken


def personal_token(*, user) -> AuthToken | None:
    """The user's live token, if any (expired ones are not shown: knox deletes them when they are tried)."""
    from django.utils import timezone

    live = AuthToken.objects.filter(user=user).order_by("-created")
    return next((t for t in live if t.expiry is None or t.expiry > timezone.now()), None)


@transaction.atomic
def rotate_personal_token(*, user) -> tuple[AuthToken, str]:
    """Revoke the user's tokens and create a new one. Returns the row and the key: the key exists only here."""
    AuthToken.objects.filter(user=user).delete()
    return AuthToken.objects.create(user=user, expiry=settings.REST_KNOX["TOKEN_TTL"])


@transaction.atomic
def revoke_personal_tokens(*, user) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
