"""Blocks of a page computed once per change of their data, shared by every process through the cache.

A dashboard polled every few seconds by every coordinator would otherwise recompute the same aggregates and
render the same HTML on every request. Each cached block names its *watermark*: a few scalar aggregates (newest
id, latest `updated_at`, row counts) that change whenever the block's data does, read for every block of a page
in ONE query (`read_watermark`). The watermark and the current minute (for figures that move with the clock)
make the cache key, so a block is never behind its data and at most a minute behind the clock. If the cache is
down (django-redis ignores its errors) every request computes, as without it.
"""

import hashlib

from django.core.cache import cache
from django.db.models import OuterRef, Subquery, Value
from django.utils import timezone

CACHE_SECONDS = 120


def aggregate_of(model, conference_path: str | None, aggregate):
    """`aggregate` over the conference's rows of `model` (every row when there is no path to a conference), as a
    scalar subquery on a Conference row: a watermark part."""
    rows = model.objects.order_by()
    if conference_path:
        rows = rows.filter(**{conference_path: OuterRef("pk")}).values(conference_path)
    else:
        rows = rows.annotate(everything=Value(1)).values("everything")
    return Subquery(rows.annotate(v=aggregate).values("v")[:1])


def read_watermark(conference, parts: dict) -> dict:
    """{name: value} for named watermark parts (fields of the conference or `aggregate_of` subqueries): ONE query."""
    fields = [part for part in parts.values() if isinstance(part, str)]
    # Prefixed, so a part's name can never clash with a field or relation of the conference.
    expressions = {f"watermark_{name}": part for name, part in parts.items() if not isinstance(part, str)}
    row = type(conference).objects.filter(pk=conference.pk).values(*fields, **expressions).first() or {}
    return {name: row.get(part if isinstance(part, str) else f"watermark_{name}") for name, part in parts.items()}


def cached_by_watermark(*, key_prefix: str, watermark, parts: tuple, compute):
    """`compute()` once per (watermark, minute, parts), shared by every process; `compute` returns something
    picklable. `parts` names what is computed (and for which parameters)."""
    minute = timezone.now().strftime("%Y%m%d%H%M")
    digest = hashlib.sha256(repr((watermark, minute, parts)).encode()).hexdigest()[:32]
    key = f"{key_prefix}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value
