"""Generations of the cached documents, moved on by the writes that change what they read.

A document is cached with the generations it was computed under: `ALL` (every document: the
rollup task, a challenge's edit) and its own scope's (`user(id)`, `template(id)`,
`challenge(id)`, `PLATFORM`). `touch(*scopes)` gives each scope a new random generation once
the writing transaction commits (`insights.hooks` calls it for runs, ledger entries, attempts,
sign-ups, ratings, favourites and forks), so the next request computes the document again while
an unchanged one is served from the cache without reading the database.

Generations are random, never counted up: a key that expired or was evicted comes back as a
value no stored document carries, so it can only cost a recomputation, never a stale answer. A
touch that cannot reach the cache is logged; until INSIGHTS_CACHE_SECONDS pass, the documents it
should have moved on may then be served as they were.
"""

import logging
import secrets
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection, transaction

logger = logging.getLogger(__name__)

ALL = "all"
PLATFORM = "platform"
GENERATION_SECONDS = 86_400  # an expired generation costs one recomputation per document
_PENDING = "_insights_touched"  # the connection's scopes touched by transactions not yet flushed


def user(user_id) -> str:
    return f"user:{user_id}"


def template(template_id) -> str:
    return f"template:{template_id}"


def challenge(challenge_id) -> str:
    return f"challenge:{challenge_id}"


def generation_key(scope: str) -> str:
    return f"insights:gen:{scope}"


def touch(*scopes: str) -> None:
    """Move the scopes' generations on once the current transaction commits (at once outside one).

    The scopes of one transaction go in one cache round trip: every touch queues its scopes on the
    connection and registers a hook; the first hook to run after the commit flushes them all. A
    rolled-back transaction's scopes are flushed by the next commit: one recomputation too many.
    """
    pending: set[str] | None = getattr(connection, _PENDING, None)
    if pending is None:
        pending = set()
        setattr(connection, _PENDING, pending)
    pending.update(scope for scope in scopes if scope)
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    pending: set[str] = getattr(connection, _PENDING, set())
    if not pending:
        return
    scopes = list(pending)
    pending.clear()
    bump(scopes)


def bump(scopes: Iterable[str]) -> None:
    """New generations for the scopes now."""
    values = {generation_key(scope): secrets.randbits(62) for scope in scopes}
    if not values:
        return
    try:
        cache.set_many(values, timeout=GENERATION_SECONDS)
    except Exception:  # a cache outage must not fail the write that touched
        logger.warning("insights generations not moved on: %s", sorted(values), exc_info=True)


def ensure(keys: list[str]) -> tuple[int, ...] | None:
    """The current generations of `keys`, creating those that are missing; None when the cache is away."""
    try:
        for key in keys:
            cache.add(key, secrets.randbits(62), timeout=GENERATION_SECONDS)
        found = cache.get_many(keys)
    except Exception:
        logger.warning("insights generations unreadable", exc_info=True)
        return None
    values = tuple(found.get(key) for key in keys)
    return None if None in values else values
