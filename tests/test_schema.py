"""Index hygiene of the project's own tables, read from the migrated PostgreSQL catalog.

Every index is one more write per inserted row (a run start writes two rows), so none may
duplicate the leading columns of another; every foreign key still needs an index that leads with
it, or deleting a user or a template scans the referencing tables.
"""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

OWN_APPS = ("accounts", "prompts", "llm", "challenges", "game", "insights")

# A plain index (not unique, not partial, on columns) whose columns and operator classes are
# the leading ones of another index on the same table: that one answers every query it could.
REDUNDANT_INDEXES = """
SELECT t.relname, i.relname, j.relname
FROM pg_index a
JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
JOIN pg_class i ON i.oid = a.indexrelid
JOIN pg_class j ON j.oid = b.indexrelid
JOIN pg_class t ON t.oid = a.indrelid
WHERE t.relname = ANY(%s)
  AND NOT a.indisunique AND a.indpred IS NULL AND a.indexprs IS NULL
  AND b.indpred IS NULL AND b.indexprs IS NULL
  AND a.indnatts <= b.indnatts
  AND (b.indkey::int2[])[0:a.indnatts - 1] = (a.indkey::int2[])[0:a.indnatts - 1]
  AND (b.indclass::oid[])[0:a.indnatts - 1] = (a.indclass::oid[])[0:a.indnatts - 1]
ORDER BY 1, 2
"""


def own_models():
    """The concrete models of the project's apps (Django's auto-created M2M tables are its own)."""
    return [
        model
        for label in OWN_APPS
        for model in apps.get_app_config(label).get_models()
        if not model._meta.auto_created and model._meta.managed and not model._meta.proxy
    ]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("reads the PostgreSQL catalog")


def test_no_index_repeats_the_leading_columns_of_another(postgres):
    tables = sorted({model._meta.db_table for model in own_models()})
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT_INDEXES, [tables])
        redundant = [f"{table}: {index} (covered by {by})" for table, index, by in cursor.fetchall()]

    assert redundant == []


def test_every_foreign_key_leads_an_index(postgres):
    unindexed = []
    with connection.cursor() as cursor:
        for model in own_models():
            table = model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table).values()
            leading = {c["columns"][0] for c in constraints if (c["index"] or c["unique"]) and c["columns"]}
            unindexed += [
                f"{table}.{field.column}"
                for field in model._meta.concrete_fields
                if field.many_to_one and field.column not in leading
            ]

    assert unindexed == []
