"""Free runs: an unverified account's runs of the embedded models, counted against a daily allowance."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("llm", "0007_run_batch"),
    ]

    operations = [
        migrations.AddField(
            model_name="llmrun",
            name="free",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="runbatch",
            name="free",
            field=models.BooleanField(default=False),
        ),
    ]
