"""Prepared hot-path statements (game.sql_exec): on unless DATABASE_PREPARED_STATEMENTS is off."""

import pytest
from django.db import connection

from game import progress_sql
from game.services import xp_award
from game.sql_exec import prepared_cursor

pytestmark = pytest.mark.django_db(transaction=True)


def _fresh_connection_now():
    """Start from a new PostgreSQL connection (nothing prepared on it yet); the server's clock."""
    connection.close()
    connection.close_pool()  # a pooled connection may carry statements prepared by earlier tests
    return _now()


def _now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _prepared_since(since) -> set[str]:
    """The texts of the statements this session's connection prepared since `since`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE prepare_time >= %s", [since])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(("enabled", "threshold"), [(True, 0), (False, None)])
def test_the_cursor_prepares_only_when_enabled_and_puts_djangos_setting_back(settings, enabled, threshold):
    settings.DATABASE_PREPARED_STATEMENTS = enabled
    connection.ensure_connection()
    before = connection.connection.prepare_threshold

    with prepared_cursor() as cursor:
        assert cursor.connection.prepare_threshold == threshold

    assert before is None  # Django's own statements are never prepared
    assert connection.connection.prepare_threshold is before


def test_an_award_prepares_its_statements(user, settings):
    settings.DATABASE_PREPARED_STATEMENTS = True
    since = _fresh_connection_now()

    xp_award(user_id=user.pk, amount=5, reason="bonus", idempotency_key="prepared")

    # The server keeps the text with $n placeholders: compare up to the first parameter.
    head = progress_sql._xp_add_sql().split("%s")[0]
    assert any(text.startswith(head) for text in _prepared_since(since))


def test_with_preparing_off_an_award_prepares_nothing(user, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    since = _fresh_connection_now()

    xp_award(user_id=user.pk, amount=5, reason="bonus", idempotency_key="unprepared")

    assert _prepared_since(since) == set()
