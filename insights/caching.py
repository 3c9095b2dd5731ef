"""Insights documents cached in the shared cache, keyed by the rollups' generation and a fingerprint.

Every rollup write moves the generation on, so a document computed from older rollups is never
served again; the fingerprint (`insights.freshness`) changes with anything the document read
outside the rollups, so a new run or ledger entry shows at once. INSIGHTS_CACHE_SECONDS only
bounds how long an unread document stays. A cache that is away is skipped: the document is computed.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from insights.rollups import rolled_until
from insights.windows import Window

logger = logging.getLogger(__name__)


def cached_document(
    kind: str, ident: Any, window: Window, compute: Callable[..., dict], fingerprint: Callable[..., str]
) -> dict:
    """`compute(rolled_until=...)`'s document for (kind, ident, window), from the cache when fresh."""
    until, generation = rolled_until()
    digest = hashlib.blake2b(fingerprint(rolled_until=until).encode(), digest_size=12).hexdigest()
    key = ":".join(
        ("insights", str(generation), kind, str(ident), window.first.isoformat(), window.last.isoformat(),
         window.tz_name, window.bucket, digest)
    )  # fmt: skip
    try:
        document = cache.get(key)
    except Exception:  # a cache outage costs a recomputation, never the request
        logger.warning("insights cache read failed", exc_info=True)
        document = None
    if document is not None:
        return document
    document = compute(rolled_until=until)
    try:
        cache.set(key, document, timeout=settings.INSIGHTS_CACHE_SECONDS)
    except Exception:
        logger.warning("insights cache write failed", exc_info=True)
    return document
