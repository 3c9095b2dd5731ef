"""Drop the foreign keys' single-column indexes that composite indexes already lead with."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import indexes_dropped


def _template_field(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="prompts.prompttemplate",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("prompts", "0002_template_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        indexes_dropped(
            [
                ("prompts_favorite", "template_id", "prompts_favorite_template_id_ccf80347"),
                ("prompts_favorite", "user_id", "prompts_favorite_user_id_033276d5"),
                ("prompts_prompttemplate", "category_id", "prompts_prompttemplate_category_id_5e97ad51"),
                ("prompts_prompttemplate", "owner_id", "prompts_prompttemplate_owner_id_01fbf978"),
                ("prompts_rating", "template_id", "prompts_rating_template_id_490a36e9"),
                ("prompts_templateversion", "template_id", "prompts_templateversion_template_id_e3cbd090"),
            ],
            [
                migrations.AlterField(model_name="favorite", name="template", field=_template_field("favorites")),
                migrations.AlterField(
                    model_name="favorite",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="template_favorites",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="prompttemplate",
                    name="category",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="templates",
                        to="prompts.category",
                    ),
                ),
                migrations.AlterField(
                    model_name="prompttemplate",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="prompt_templates",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(model_name="rating", name="template", field=_template_field("ratings")),
                migrations.AlterField(model_name="templateversion", name="template", field=_template_field("versions")),
            ],
        ),
    ]
