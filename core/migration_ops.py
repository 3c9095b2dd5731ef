"""Migration building blocks shared by the apps' migrations (keep them stable: migrations import them)."""

from django.db import migrations
from django.db.migrations.operations.base import Operation


def indexes_dropped(indexes: list[tuple[str, str, str]], state_operations: list[Operation]) -> Operation:
    """Drop single-column indexes, given as (table, column, index name), as the state operations say.

    Only the indexes go: `AlterField(db_index=False)` on a foreign key would also drop and re-add
    its constraint, which rescans the whole table under lock. Reversible (CREATE INDEX).
    """
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
            )
            for table, column, index in indexes
        ],
        state_operations=state_operations,
    )
