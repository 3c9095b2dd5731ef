"""The writes every award runs, as SQL built once instead of by the ORM on every call.

An award is a few statements in one locked transaction. Built by the ORM, each of them costs
this process more CPU (query compilation, 0.5-1 ms on a small VM) than the database spends
running it, and awards are the game's hottest write path (hundreds per second with live
leaderboards). These are the same statements as plain SQL, built once per table from the
models' metadata, with values prepared by the model fields (so they run on PostgreSQL and
SQLite alike). The rules stay in `game.services`; this module only writes what it is given.
Table and column names come from the models, every value is a parameter (hence the S608
exemptions).
"""

import functools
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from game.models import PlayerStats, XPEvent
from game.sql_exec import one_trip_with_begin, prepared_cursor
from game.sql_names import column, quote

User = get_user_model()


def _user_pk(user_id) -> Any:
    return User._meta.pk.get_db_prep_value(user_id, connection)


# What a progress write reads of the user; the other fields stay deferred (loaded if touched).
# In the model's field order, which is the order `Model.from_db` expects.
_TURN_USER_NAMES = {"id", "username", "timezone", "credits", "experience_points", "level", "user_rank"}
TURN_USER_FIELDS = tuple(f.name for f in User._meta.concrete_fields if f.name in _TURN_USER_NAMES)
STATS_FIELDS = tuple(f for f in PlayerStats._meta.concrete_fields if not f.primary_key)


@functools.cache
def _player_locked_sql() -> str:
    user_columns = [f"u.{column(User, name)}" for name in TURN_USER_FIELDS]
    stats_columns = [f"s.{quote(f.column)}" for f in (PlayerStats._meta.pk, *STATS_FIELDS)]
    sql = (
        f"SELECT {', '.join(user_columns + stats_columns)} FROM {quote(User._meta.db_table)} u "  # noqa: S608
        f"JOIN {quote(PlayerStats._meta.db_table)} s ON s.{quote(PlayerStats._meta.pk.column)} = "
        f"u.{quote(User._meta.pk.column)} WHERE u.{quote(User._meta.pk.column)} = %s"
    )
    if connection.features.has_select_for_update:  # SQLite has none: it has one writer at a time anyway
        # Both rows, the user's first (rows are locked in this order): the same order as every
        # credit change and run settlement, so these transactions cannot deadlock. Locking the
        # stats row too is what makes PostgreSQL re-read it if the user row lock had to wait: a
        # row only joined would keep its version from before the wait.
        of = ("u", "s") if connection.features.has_select_for_update_of else ()
        sql += " " + connection.ops.for_update_sql(of=of)
    return sql


def player_locked(user_id) -> tuple[Any, PlayerStats] | None:
    """The user (with the fields a progress write reads) and their stats row, both locked, in
    one query (sent with the transaction's BEGIN); None when either row is missing."""
    with prepared_cursor() as cursor:
        with one_trip_with_begin(cursor):
            cursor.execute(_player_locked_sql(), [_user_pk(user_id)])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(TURN_USER_FIELDS)
    user_fields = [User._meta.get_field(name) for name in TURN_USER_FIELDS]
    # to_python: the values as the ORM would give them, on backends that return text (SQLite).
    user = User.from_db(
        connection.alias,
        [f.attname for f in user_fields],
        [f.to_python(v) for f, v in zip(user_fields, row[:width], strict=True)],
    )
    fields = (PlayerStats._meta.pk, *STATS_FIELDS)
    values = [f.to_python(v) for f, v in zip(fields, row[width:], strict=True)]
    stats = PlayerStats.from_db(connection.alias, [f.attname for f in fields], values)
    return user, stats


_XP_EVENT_GIVEN = ("user", "amount", "total_after", "reason", "source", "idempotency_key", "local_date", "created_at")


@functools.cache
def _xp_insert_sql() -> str:
    columns = ", ".join(column(XPEvent, name) for name in _XP_EVENT_GIVEN)
    placeholders = ", ".join(["%s"] * len(_XP_EVENT_GIVEN))
    # No conflict target: the only unique index a new row can hit is (user, idempotency_key).
    return (
        f"INSERT INTO {quote(XPEvent._meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {column(XPEvent, 'id')}"
    )


@functools.cache
def _user_xp_sql() -> str:
    xp = column(User, "experience_points")
    return (
        f"UPDATE {quote(User._meta.db_table)} SET {xp} = {xp} + %s, {column(User, 'level')} = %s, "  # noqa: S608
        f"{column(User, 'user_rank')} = %s WHERE {quote(User._meta.pk.column)} = %s"
    )


@functools.cache
def _xp_add_sql() -> str:
    """PostgreSQL: the ledger row and the user's XP in one statement, the update only if the row was new."""
    return (
        f"WITH event AS ({_xp_insert_sql()}), "  # noqa: S608
        f"credited AS ({_user_xp_sql()} AND EXISTS (SELECT FROM event)) "
        "SELECT id FROM event"
    )


def xp_add(
    *,
    user_id,
    amount: int,
    total_after: int,
    level: int,
    rank: str,
    reason: str,
    source: str,
    idempotency_key: str,
    local_date: date,
    created_at: datetime,
) -> int | None:
    """Write an XP ledger row and add `amount` to the user's XP (relative: F()-style), setting
    the level and rank it reached. Returns the row's id, or None when the user already has a row
    with this key (then nothing is written)."""
    field = XPEvent._meta.get_field
    event = [
        _user_pk(user_id),
        amount,
        total_after,
        reason,
        source,
        idempotency_key,
        field("local_date").get_db_prep_value(local_date, connection),
        field("created_at").get_db_prep_value(created_at, connection),
    ]
    credit = [amount, level, rank, _user_pk(user_id)]
    with prepared_cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_xp_add_sql(), event + credit)
            row = cursor.fetchone()
        else:
            cursor.execute(_xp_insert_sql(), event)
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(_user_xp_sql(), credit)
    return row[0] if row else None


def stats_values(stats: PlayerStats) -> dict[str, Any]:
    """The stats row's current values, to compare with at save time."""
    return {f.attname: getattr(stats, f.attname) for f in STATS_FIELDS}


@functools.cache
def _stats_update_sql(attnames: tuple[str, ...]) -> str:
    sets = ", ".join(f"{column(PlayerStats, name)} = %s" for name in attnames)
    table, pk = quote(PlayerStats._meta.db_table), quote(PlayerStats._meta.pk.column)
    return f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608


def stats_save(stats: PlayerStats, before: dict[str, Any]) -> None:
    """Write the stats fields that differ from `before` (nothing when none changed)."""
    changed = [f for f in STATS_FIELDS if getattr(stats, f.attname) != before[f.attname]]
    if not changed:
        return
    params = [f.get_db_prep_save(getattr(stats, f.attname), connection) for f in changed]
    params.append(_user_pk(stats.pk))
    with prepared_cursor() as cursor:
        cursor.execute(_stats_update_sql(tuple(f.attname for f in changed)), params)
