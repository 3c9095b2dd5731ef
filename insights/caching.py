"""Insights documents cached as their JSON bytes, valid while their generations stay (`insights.freshness`).

One MGET reads the generations of `ALL` and of the document's scope with the stored document,
which carries the generations it was computed under: when they match, its bytes are the answer,
with no database read and no serialisation. Otherwise the document is computed, the generations
read *before* computing stored with it (a write that commits meanwhile moves them on, so the
document is computed again next time). INSIGHTS_CACHE_SECONDS only bounds how long an unread
document stays. A cache that is away is skipped: the document is computed.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.renderers import JSONRenderer

from insights import freshness
from insights.rollups import rolled_until
from insights.windows import Window

logger = logging.getLogger(__name__)
_renderer = JSONRenderer()  # the bytes DRF's Response would send: compact, UTF-8


def document_key(kind: str, ident: Any, window: Window) -> str:
    return ":".join(
        ("insights", "doc", kind, str(ident), window.first.isoformat(), window.last.isoformat(), window.tz_name,
         window.bucket)
    )  # fmt: skip


def cached_json(kind: str, ident: Any, scope: str, window: Window, compute: Callable[..., dict]) -> bytes:
    """`compute(rolled_until=...)`'s document for (kind, ident, window) as JSON bytes, from the cache when fresh."""
    generation_keys = [freshness.generation_key(freshness.ALL), freshness.generation_key(scope)]
    key = document_key(kind, ident, window)
    try:
        found = cache.get_many([*generation_keys, key])
    except Exception:  # a cache outage costs a recomputation, never the request
        logger.warning("insights cache read failed", exc_info=True)
        found = None
    generations: tuple | None = None
    if found is not None:
        generations = tuple(found.get(name) for name in generation_keys)
        stored = found.get(key)
        if None not in generations and stored is not None and stored[0] == generations:
            return stored[1]
        if None in generations:
            generations = freshness.ensure(generation_keys)
    body = _renderer.render(compute(rolled_until=rolled_until()[0]))
    if generations is not None:
        try:
            cache.set(key, (generations, body), timeout=settings.INSIGHTS_CACHE_SECONDS)
        except Exception:
            logger.warning("insights cache write failed", exc_info=True)
    return body
