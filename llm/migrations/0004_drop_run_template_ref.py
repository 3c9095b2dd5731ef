from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("llm", "0003_run_template_foreign_key"),
    ]

    operations = [
        migrations.RemoveField(model_name="llmrun", name="template_ref"),
        migrations.AddIndex(
            model_name="llmrun",
            index=models.Index(fields=["template", "-created_at"], name="llm_run_template_idx"),
        ),
    ]
