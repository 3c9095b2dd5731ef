"""Runs paid from their caller's reservation (graded attempts), and runs sealed from the history."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("llm", "0005_drop_covered_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="llmrun",
            name="prepaid",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="llmrun",
            name="sealed",
            field=models.BooleanField(default=False),
        ),
    ]
