"""Fingerprints of what a cached document read outside the rollups: the live slice and the ledgers.

A document is cached under the rollups' generation and its fingerprint, so a run that starts or
settles, an XP or credit entry, an attempt, a rating or a sign-up makes the next request compute
it again, while an unchanged one is served from the cache. Each fingerprint is a few index lookups
over the live slice (the slots after `rolled_until`, under an hour of rows).
"""

from datetime import datetime

from django.contrib.auth import get_user_model

from challenges.models import Attempt
from game.models import CreditEntry, XPEvent
from insights.readers import fetch
from insights.windows import Window
from llm.models import LLMRun
from prompts.models import PromptTemplate, Rating

_RUNS = LLMRun._meta.db_table
_ATTEMPTS = Attempt._meta.db_table


def _live(window: Window, rolled_until: datetime | None) -> tuple[datetime, datetime] | None:
    lo = max(window.start, rolled_until) if rolled_until else window.start
    return (lo, window.end) if lo < window.end else None


def _changes(table: str, where: str) -> str:
    """How many rows, and the latest start or end among them (a settle moves it)."""
    return (
        f"(SELECT count(*)::text || '/' || coalesce(max(coalesce(finished_at, created_at))::text, '') "
        f"FROM {table} WHERE created_at >= %(lo)s AND created_at < %(hi)s {where})"
    )


def _fingerprint(parts: list[str], params: dict) -> str:
    row = fetch("SELECT " + ", ".join(f"{part} AS p{i}" for i, part in enumerate(parts)), params)[0]
    return "|".join(str(value) for value in row.values())


def learner(user_id, window: Window, rolled_until: datetime | None) -> str:
    live = _live(window, rolled_until)
    ledgers = [
        f"(SELECT max(id) FROM {XPEvent._meta.db_table} WHERE user_id = %(id)s)",
        f"(SELECT max(id) FROM {CreditEntry._meta.db_table} WHERE user_id = %(id)s)",
    ]
    if live is None:
        return _fingerprint(ledgers, {"id": user_id})
    where = "AND user_id = %(id)s"
    return _fingerprint(
        [_changes(_RUNS, where), _changes(_ATTEMPTS, where), *ledgers], {"id": user_id, "lo": live[0], "hi": live[1]}
    )


def template(template: PromptTemplate, window: Window, rolled_until: datetime | None) -> str:
    counters = f"{template.usage_count}/{template.rating_count}/{template.favorites_count}/{template.version}"
    parts = [
        f"(SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM {Rating._meta.db_table} "
        f"WHERE template_id = %(id)s)",
        f"(SELECT count(*) FROM {PromptTemplate._meta.db_table} WHERE forked_from_id = %(id)s)",
    ]
    params: dict = {"id": template.pk}
    live = _live(window, rolled_until)
    if live is not None:
        parts.append(_changes(_RUNS, "AND template_id = %(id)s"))
        params |= {"lo": live[0], "hi": live[1]}
    return counters + "|" + _fingerprint(parts, params)


def challenge(challenge_id: int, window: Window, rolled_until: datetime | None) -> str:
    live = _live(window, rolled_until)
    if live is None:
        return "-"
    return _fingerprint([_changes(_ATTEMPTS, "AND challenge_id = %(id)s")], {"id": challenge_id, "lo": live[0],
                                                                             "hi": live[1]})  # fmt: skip


def platform(window: Window, rolled_until: datetime | None) -> str:
    users = get_user_model()._meta.db_table
    parts = [f"(SELECT count(*)::text || '/' || coalesce(max(date_joined)::text, '') FROM {users})"]
    params: dict = {}
    live = _live(window, rolled_until)
    if live is not None:
        parts += [_changes(_RUNS, ""), _changes(_ATTEMPTS, "")]
        params |= {"lo": live[0], "hi": live[1]}
    return _fingerprint(parts, params)
