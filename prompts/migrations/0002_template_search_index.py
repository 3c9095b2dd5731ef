"""GIN index for the ranked full-text search of templates (PostgreSQL only; SQLite searches by substring).

The indexed expression is the one prompts.selectors.template_search builds, so the planner can use it.
"""

from django.db import migrations

INDEX = "prompts_tpl_search_gin_idx"
EXPRESSION = (
    "(setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B'))"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(content, '')), 'C')"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON prompts_prompttemplate USING GIN (({EXPRESSION}))")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("prompts", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
