"""LLMRun.template: a nullable foreign key to the template run (it was a text copy of its id).

The old column is dropped in the next migration: on PostgreSQL the copied rows leave deferred
foreign-key checks pending, and the table cannot be altered again in the same transaction.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models


def copy_template_refs(apps, schema_editor):
    LLMRun = apps.get_model("llm", "LLMRun")
    PromptTemplate = apps.get_model("prompts", "PromptTemplate")
    refs = {}
    for run_id, ref in LLMRun.objects.exclude(template_ref="").values_list("pk", "template_ref"):
        try:
            refs[run_id] = uuid.UUID(ref)
        except ValueError:
            continue
    existing = set(PromptTemplate.objects.filter(pk__in=set(refs.values())).values_list("pk", flat=True))
    for run_id, template_id in refs.items():
        if template_id in existing:
            LLMRun.objects.filter(pk=run_id).update(template_id=template_id)


def copy_template_ids_back(apps, schema_editor):
    LLMRun = apps.get_model("llm", "LLMRun")
    for run_id, template_id in LLMRun.objects.exclude(template=None).values_list("pk", "template_id"):
        LLMRun.objects.filter(pk=run_id).update(template_ref=str(template_id))


class Migration(migrations.Migration):
    dependencies = [
        ("llm", "0002_run_created_index"),
        ("prompts", "0002_template_search_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="llmrun", name="llm_run_template_idx"),
        migrations.RenameField(model_name="llmrun", old_name="template_id", new_name="template_ref"),
        migrations.AddField(
            model_name="llmrun",
            name="template",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="llm_runs",
                to="prompts.prompttemplate",
            ),
        ),
        migrations.RunPython(copy_template_refs, copy_template_ids_back),
    ]
