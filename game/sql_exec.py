"""Prebuilt statements on Django's connection: prepared, with server-side binding, on PostgreSQL.

Django's PostgreSQL cursors bind parameters on the client and never prepare (prepare_threshold
None), so PostgreSQL parses and plans every statement again. The game's and the runs' hot
statements are fixed texts built once from the models (game.progress_sql, game.credits_sql):
prepared once per connection, each later call sends only its parameters. Elsewhere (SQLite in
development) they run on Django's own cursor. DATABASE_PREPARED_STATEMENTS=false turns the
preparing off for poolers that cannot keep prepared statements.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection


@contextlib.contextmanager
def preparing(pg: psycopg.Connection) -> Iterator[None]:
    """Within the block, statements on `pg` are prepared at first use (DATABASE_PREPARED_STATEMENTS).

    Django's threshold is put back after: its own statements stay unprepared.
    """
    threshold = 0 if getattr(settings, "DATABASE_PREPARED_STATEMENTS", True) else None
    threshold, pg.prepare_threshold = pg.prepare_threshold, threshold
    try:
        yield
    finally:
        pg.prepare_threshold = threshold


@contextlib.contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A cursor whose statements are prepared on first use per connection (PostgreSQL)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    pg = connection.connection
    with preparing(pg), connection.wrap_database_errors, psycopg.Cursor(pg) as cursor:
        yield cursor


@contextlib.contextmanager
def one_trip_with_begin(cursor: Any) -> Iterator[None]:
    """Send the block's statements together with the transaction's BEGIN (PostgreSQL pipeline mode).

    psycopg sends a transaction's BEGIN as a round trip of its own before the first statement;
    in a pipeline it goes with the statements. Results are read after the block.
    """
    if isinstance(cursor, psycopg.Cursor) and psycopg.Pipeline.is_supported():
        with connection.wrap_database_errors, cursor.connection.pipeline():
            yield
    else:
        yield
