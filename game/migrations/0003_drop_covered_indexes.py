"""Drop single-column indexes that composite indexes already lead with."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import indexes_dropped


def _user_field(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to=settings.AUTH_USER_MODEL,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("game", "0002_period_xp"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        indexes_dropped(
            [
                ("game_activity", "user_id", "game_activity_user_id_21d73380"),
                ("game_badgeunlock", "user_id", "game_badgeunlock_user_id_e1db31cc"),
                ("game_creditentry", "user_id", "game_creditentry_user_id_20ef97bf"),
                ("game_xpevent", "created_at", "game_xpevent_created_at_311764a4"),
                ("game_xpevent", "user_id", "game_xpevent_user_id_3e42c9b2"),
                ("game_provideruse", "user_id", "game_provideruse_user_id_189b4a0c"),
            ],
            [
                migrations.AlterField(model_name="activity", name="user", field=_user_field("game_activities")),
                migrations.AlterField(model_name="badgeunlock", name="user", field=_user_field("badge_unlocks")),
                migrations.AlterField(model_name="creditentry", name="user", field=_user_field("credit_entries")),
                migrations.AlterField(
                    model_name="xpevent", name="created_at", field=models.DateTimeField(auto_now_add=True)
                ),
                migrations.AlterField(model_name="xpevent", name="user", field=_user_field("xp_events")),
                migrations.AlterField(model_name="provideruse", name="user", field=_user_field("game_providers")),
            ],
        ),
    ]
