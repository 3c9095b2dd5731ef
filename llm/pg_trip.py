"""Prebuilt statements sent to PostgreSQL in one network round trip (psycopg pipeline mode).

The run start and settle are each one transaction of one or two statements built once from
the models (`llm.start_pg`, `llm.settle_pg`). Through the ORM they cost several round trips and
most of their CPU in query building; here BEGIN, the statements and COMMIT go out at once on
Django's own connection, as prepared statements.
"""

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection, transaction

from game.credits_sql import Sql
from game.sql_exec import preparing

logger = logging.getLogger(__name__)


def one_trip(statements: Sequence[Sql], *, synchronous_commit: bool = True) -> tuple[Any, ...]:
    """Run the statements as one transaction in one round trip; returns the last one's row.

    Inside the caller's transaction they run in a savepoint, as an ORM atomic block would, so an
    error leaves the caller's block usable (tests; the request paths never do this).
    `synchronous_commit=False` skips waiting for the WAL flush (own transaction only).
    """
    if connection.get_autocommit() and not connection.in_atomic_block:
        return _pipelined(statements, own_transaction=True, synchronous_commit=synchronous_commit)
    with transaction.atomic():
        return _pipelined(statements, own_transaction=False, synchronous_commit=True)


def _pipelined(statements: Sequence[Sql], *, own_transaction: bool, synchronous_commit: bool) -> tuple[Any, ...]:
    """Send the statements (in BEGIN/COMMIT if `own_transaction`) in one round trip; the last one's row."""
    connection.ensure_connection()
    pg = connection.connection  # the psycopg Connection Django holds (autocommit outside atomic)
    # Server-side binding cursors, not Django's client-side binding ones: in pipeline mode those
    # cost about 2 ms more for this statement here. Django turns psycopg's prepared statements
    # off (prepare_threshold None); ours are prepared once per connection, which saves parsing
    # and planning the statement (0.5-0.8 ms) on every call.
    with preparing(pg), psycopg.Cursor(pg) as control, psycopg.Cursor(pg) as cursor:
        _send(control, cursor, statements, own_transaction=own_transaction, synchronous_commit=synchronous_commit)
        return cursor.fetchone()


def _send(
    control: psycopg.Cursor,
    cursor: psycopg.Cursor,
    statements: Sequence[Sql],
    *,
    own_transaction: bool,
    synchronous_commit: bool,
) -> None:
    """Queue BEGIN, the statements and COMMIT, then sync once; roll back (own transaction) on error."""
    pg = control.connection
    try:
        # Errors surface when the pipeline syncs, at the end of the block: translate them.
        with connection.wrap_database_errors, pg.pipeline():
            if own_transaction:
                control.execute("BEGIN", prepare=False)
                if not synchronous_commit:
                    control.execute("SET LOCAL synchronous_commit = off", prepare=False)
            for statement in statements[:-1]:
                control.execute(statement.text, statement.params)
            cursor.execute(statements[-1].text, statements[-1].params)
            if own_transaction:
                control.execute("COMMIT", prepare=False)
    except BaseException:
        if own_transaction:
            _rollback_quietly(pg)
        raise


def _rollback_quietly(pg: psycopg.Connection) -> None:
    """End a failed pipelined transaction, so the pool gets an idle connection back."""
    try:
        pg.rollback()  # after a failed statement the server skipped COMMIT: the block is aborted
    except Exception:  # a broken connection: Django discards it (errors_occurred), the pool too
        logger.warning("rollback after a failed pipelined transaction did not succeed", exc_info=True)
