"""Keyed hashes of phone numbers: what the opt-out list keeps of a number once its owner is erased.

A keyed HMAC (not a bare hash) because UK mobile numbers are few enough to hash them all: without the key a
hash would be reversible by brute force. The key comes from settings (`OPT_OUT_HASH_KEY`, defaulting to one
derived from SECRET_KEY); rotating it would make old hashes unmatchable, so production must keep it fixed.
"""

import hashlib
import hmac

from django.conf import settings


def _key() -> bytes:
    key = getattr(settings, "OPT_OUT_HASH_KEY", "") or f"cardvote-opt-out:{settings.SECRET_KEY}"
    return key.encode()


def number_hash(number: str) -> str:
    """HMAC-SHA256 hex digest of a number in E.164 (callers normalise first, e.g. with `services.number_key`)."""
    return hmac.new(_key(), (number or "").encode(), hashlib.sha256).hexdigest()
