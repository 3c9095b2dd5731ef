"""The run start on PostgreSQL in one network round trip (psycopg pipeline mode).

The same transaction as the ORM path of `llm.services.run_start`, sent at once: BEGIN; lock
the user row (`game.credits_sql.user_lock`); one statement; COMMIT. The statement counts the
user's running runs and their runs in the `ai_requests` window (`llm.throttles`) and, only if
both counts are under their limits and the balance covers the reservation, takes the credits
with their ledger row (`game.credits_sql.spend_ctes`) and inserts the run. The server runs it
after the lock is granted, so its snapshot is fresh: it sees every start committed while this one
waited, which keeps the limits exact across processes. Each round trip costs 0.5-1 ms on a loaded
2-core machine; the ORM path makes eight.

The SQL is built from the models' quoted identifiers and constant names; every value is a `%s`
parameter (hence the S608 exemptions).
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from game import credits_sql
from game.broadcast import Outbox
from game.credits_sql import Sql
from game.sql_names import column, quote
from llm.models import LLMRun, RunStatus
from llm.pg_trip import one_trip
from llm.throttles import Window

RESERVE_REASON = "run.reserve"
_UNDER_LIMITS = "(SELECT n FROM running) < %s AND (SELECT n FROM recent) < %s"


@functools.cache
def available() -> bool:
    """True when the database is PostgreSQL through a psycopg with pipeline mode."""
    return connection.vendor == "postgresql" and psycopg.Pipeline.is_supported()


@dataclass(frozen=True)
class StartResult:
    started: bool  # the run row was inserted (and its credits reserved)
    running: int  # the user's running runs before this one, counted under the lock
    recent: int  # their runs in the ai_requests window (counted up to its limit), under the lock
    balance: int | None  # the balance this start found; None: no such user
    balance_after: int | None  # after the reservation, when credits were taken


@functools.cache
def _run_fields() -> tuple:
    return tuple(LLMRun._meta.concrete_fields)


@functools.cache
def _texts() -> tuple[str, str, str]:
    """(the `running` and `recent` CTEs, the `run_row` insert up to its WHERE): fixed per schema."""
    meta = LLMRun._meta
    table = quote(meta.db_table)
    user_col, status_col, created_col = (column(LLMRun, n) for n in ("user", "status", "created_at"))
    running = (
        f"running AS (SELECT count(*) AS n FROM {table}"  # noqa: S608
        f" WHERE {user_col} = %s AND {status_col} = %s AND {created_col} >= %s)"
    )
    # Counting stops at the limit: a window's scan of the history index is at most that long.
    recent = (
        f"recent AS (SELECT count(*) AS n FROM (SELECT FROM {table}"  # noqa: S608
        f" WHERE {user_col} = %s AND {created_col} >= %s LIMIT %s) AS in_window)"
    )
    columns = ", ".join(quote(f.column) for f in _run_fields())
    # Plain placeholders: INSERT ... SELECT coerces them to the column types (and checks lengths).
    values = ", ".join(["%s"] * len(_run_fields()))
    return running, recent, f"run_row AS (INSERT INTO {table} ({columns}) SELECT {values}"


def _run_values(run: LLMRun) -> tuple[Any, ...]:
    """Every concrete field of `run`, prepared as Model.save would (auto_now_add sets created_at)."""
    return tuple(f.get_db_prep_save(f.pre_save(run, add=True), connection) for f in _run_fields())


def _start_statement(run: LLMRun, *, limit: int, stale_before: datetime, window: Window) -> Sql:
    """The one statement after the lock: count, then reserve and insert only under the limits."""
    running, recent, insert = _texts()
    values = _run_values(run)  # first: it sets run.created_at, which the ledger row shares
    under_limit = Sql(_UNDER_LIMITS, (limit, window.limit))
    ctes = [
        Sql(running, (run.user_id, RunStatus.RUNNING.value, stale_before)),
        Sql(recent, (run.user_id, window.start, window.limit)),
    ]
    if run.reserved_credits > 0:
        ctes.append(
            credits_sql.spend_ctes(
                user_id=run.user_id,
                amount=run.reserved_credits,
                reason=RESERVE_REASON,
                idempotency_key=f"run:{run.pk}:reserve",
                source=f"llm.run:{run.pk}",
                created_at=run.created_at,
                guard=under_limit,
            )
        )
        when = Sql(f"EXISTS (SELECT FROM {credits_sql.SPENT})")
        balance_after = f"(SELECT balance_after FROM {credits_sql.SPENT})"  # noqa: S608
    else:  # a free run: nothing to reserve, only the limit to respect
        when, balance_after = under_limit, "NULL::integer"
    ctes.append(Sql(f"{insert} WHERE {when.text} RETURNING 1)", values + when.params))
    balance = credits_sql.balance_of(user_id=run.user_id)
    # Scalar subqueries of a data-modifying statement see the snapshot from before its writes:
    # `balance` is the one this start found.
    outcome = (
        f"(SELECT n FROM running), (SELECT n FROM recent), {balance.text}, {balance_after},"  # noqa: S608
        " EXISTS (SELECT FROM run_row)"
    )
    text = f"WITH {', '.join(cte.text for cte in ctes)} SELECT {outcome}"
    return Sql(text, tuple(p for cte in ctes for p in cte.params) + balance.params)


def run_insert_reserved(
    *, run: LLMRun, limit: int, stale_before: datetime, window: Window, outbox: Outbox | None = None
) -> StartResult:
    """Lock the user, count their running and recent runs, and insert `run` with its reservation if allowed.

    Nothing is written unless the run starts. `credits.changed` goes into `outbox` when given
    (the caller sends it after commit), else it is sent on commit.
    """
    statements = [
        credits_sql.user_lock(user_id=run.user_id),
        _start_statement(run, limit=limit, stale_before=stale_before, window=window),
    ]
    synchronous_commit = getattr(settings, "LLM_START_SYNCHRONOUS_COMMIT", False)
    result = _start_result(one_trip(statements, synchronous_commit=synchronous_commit))
    _after_write(run, result, outbox)
    return result


def _start_result(row: tuple[Any, ...]) -> StartResult:
    running, recent, balance, balance_after, started = row
    return StartResult(started=started, running=running, recent=recent, balance=balance, balance_after=balance_after)


def _after_write(run: LLMRun, result: StartResult, outbox: Outbox | None) -> None:
    if not result.started:
        return
    run._state.adding, run._state.db = False, connection.alias  # as after Model.save
    if run.reserved_credits > 0:
        credits_sql.spent_announce(
            user_id=run.user_id,
            amount=run.reserved_credits,
            balance=result.balance_after,
            reason=RESERVE_REASON,
            outbox=outbox,
        )
