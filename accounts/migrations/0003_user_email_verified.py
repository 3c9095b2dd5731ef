from django.db import migrations, models


class Migration(migrations.Migration):
    """Accounts that exist before email verification count as verified; new ones start unverified."""

    dependencies = [
        ("accounts", "0002_username_ci_unique"),
    ]

    operations = [
        # The default fills the rows there are (PostgreSQL drops it from the column afterwards)...
        migrations.AddField(
            model_name="user",
            name="email_verified",
            field=models.BooleanField(default=True),
        ),
        # ...and the model's default is for the accounts created from now on.
        migrations.AlterField(
            model_name="user",
            name="email_verified",
            field=models.BooleanField(default=False),
        ),
    ]
