"""Credit spends as SQL, for callers that reserve credits inside their own single statement.

`game.services.credits_spend_locked` costs two statements of its own, besides the caller's lock
and commit. A caller on a latency-critical path (the LLM run start) instead sends its whole
transaction in one PostgreSQL pipeline: the lock from `user_lock`, then one statement built
around `spend_ctes`, whose data-modifying CTEs take the credits and write the ledger row only
when the caller's guard holds. The game still owns the ledger: table and column names come from
the models, and the `credits.changed` event goes through an Outbox after commit
(`spent_announce`). PostgreSQL only.

The SQL is built from the models' quoted identifiers and constant names; every value is a `%s`
parameter (hence the S608 exemptions).
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from game.broadcast import Outbox
from game.events import CreditsChanged
from game.models import CreditEntry
from game.sql_names import column, quote

User = get_user_model()

# The CTE names `spend_ctes` defines. SPENT has one row (`balance_after`) when the credits were
# taken and none otherwise; ENTRY has the ledger row's `id` when it was written.
SPENT = "credits_spent"
ENTRY = "credits_entry"
# The same for `grant_ctes`: GRANTED has the new balance when the credits were given.
GRANTED = "credits_granted"
GRANT_ENTRY = "credits_grant_entry"


@dataclass(frozen=True)
class Sql:
    """A statement or fragment with `%s` placeholders and its parameters, in order."""

    text: str
    params: tuple[Any, ...] = ()


@functools.cache
def _user_names() -> tuple[str, str, str]:
    return quote(User._meta.db_table), quote(User._meta.pk.column), column(User, "credits")


def user_lock(*, user_id) -> Sql:
    """Lock the user's row, as every credit change does first (same lock, same order)."""
    table, pk, _ = _user_names()
    return Sql(f"SELECT 1 FROM {table} WHERE {pk} = %s FOR UPDATE", (user_id,))  # noqa: S608


def balance_of(*, user_id) -> Sql:
    """A scalar subquery: the balance as the statement's snapshot sees it (before its own spend)."""
    table, pk, credits = _user_names()
    return Sql(f"(SELECT {credits} FROM {table} WHERE {pk} = %s)", (user_id,))  # noqa: S608


# The ledger columns given as parameters, in order; balance_after comes from the update.
_ENTRY_GIVEN = ("user", "delta", "reason", "source", "idempotency_key", "created_at")


@functools.cache
def _change_text(changed: str, entry: str, sign: str, guard: str) -> str:
    """CTE `changed` moves the balance by `sign` %s where `guard` holds; CTE `entry` writes its ledger row."""
    users, pk, credits = _user_names()
    entries = quote(CreditEntry._meta.db_table)
    columns = ", ".join(column(CreditEntry, name) for name in (*_ENTRY_GIVEN, "balance_after"))
    # Plain placeholders: INSERT ... SELECT coerces them to the columns' types (and checks lengths).
    values = ", ".join(["%s"] * len(_ENTRY_GIVEN))
    return (
        f"{changed} AS ("  # noqa: S608
        f"UPDATE {users} SET {credits} = {credits} {sign} %s"
        f" WHERE {pk} = %s AND ({guard})"
        f" RETURNING {credits} AS balance_after), "
        f"{entry} AS ("
        f"INSERT INTO {entries} ({columns})"
        f" SELECT {values}, balance_after FROM {changed}"
        f" RETURNING {quote(CreditEntry._meta.pk.column)} AS id)"
    )


def _check_args(amount: int, reason: str, idempotency_key: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer")
    if not reason or not idempotency_key:
        raise ValueError("reason and idempotency_key are required")


def spend_ctes(
    *,
    user_id,
    amount: int,
    reason: str,
    idempotency_key: str,
    source: str,
    created_at: datetime,
    guard: Sql,
) -> Sql:
    """CTEs SPENT and ENTRY: take `amount` credits and write the ledger row, only if `guard` holds.

    Never overdraws (the update checks the balance itself). Preconditions, as for
    `credits_spend_locked`: an earlier statement of the same transaction locked the user row
    (`user_lock`), so this statement's fresh snapshot sees the final balance, and the idempotency
    key is new (made from a row the same statement inserts). `guard` is a boolean condition of
    the caller's (e.g. a limit on its own rows, read from another CTE of the statement).
    """
    _check_args(amount, reason, idempotency_key)
    credits = _user_names()[2]
    covered = Sql(f"{credits} >= %s AND ({guard.text})", (amount, *guard.params))  # never overdraw
    params = (amount, user_id, *covered.params, user_id, -amount, reason, source, idempotency_key, created_at)
    return Sql(_change_text(SPENT, ENTRY, "-", covered.text), params)


def grant_ctes(
    *,
    user_id,
    amount: int,
    reason: str,
    idempotency_key: str,
    source: str,
    created_at: datetime,
    guard: Sql,
) -> Sql:
    """CTEs GRANTED and GRANT_ENTRY: give `amount` credits with their ledger row, only if `guard` holds.

    The update takes the user row lock itself, so the balance it returns is the final one. The
    idempotency key must be new whenever `guard` holds (e.g. the guard is "this statement moved
    a row out of the state that owes the grant", and the key is made from that row).
    """
    _check_args(amount, reason, idempotency_key)
    params = (amount, user_id, *guard.params, user_id, amount, reason, source, idempotency_key, created_at)
    return Sql(_change_text(GRANTED, GRANT_ENTRY, "+", guard.text), params)


def granted_announce(*, user_id, amount: int, balance: int, reason: str, outbox: Outbox) -> None:
    """`credits.changed` for a grant made through `grant_ctes`; the caller sends `outbox` after commit."""
    outbox.add(user_id, CreditsChanged(balance=balance, delta=amount, reason=reason))


def spent_announce(*, user_id, amount: int, balance: int, reason: str, outbox: Outbox | None = None) -> None:
    """`credits.changed` for a spend made through `spend_ctes`; call once its statement has run.

    With `outbox`, the event joins it and the caller sends it after commit; without, it is sent
    on commit (right away outside an atomic block: the caller has committed already).
    """
    own = outbox is None
    outbox = Outbox() if own else outbox
    outbox.add(user_id, CreditsChanged(balance=balance, delta=-amount, reason=reason))
    if own:
        outbox.send_on_commit()
