"""Drop the foreign keys' single-column indexes that composite indexes already lead with."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("llm", "0004_drop_run_template_ref"),
        ("prompts", "0002_template_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        indexes_dropped(
            [
                ("llm_llmrun", "template_id", "llm_llmrun_template_id_676c9411"),
                ("llm_llmrun", "user_id", "llm_llmrun_user_id_1975cfb6"),
            ],
            [
                migrations.AlterField(
                    model_name="llmrun",
                    name="template",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="llm_runs",
                        to="prompts.prompttemplate",
                    ),
                ),
                migrations.AlterField(
                    model_name="llmrun",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="llm_runs",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
