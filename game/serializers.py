"""Shapes of the game API."""

from rest_framework import serializers

from game.leaderboards.boards import BOARDS
from game.models import CreditEntry, Notification, XPEvent


class BadgeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    tier = serializers.ChoiceField(choices=["bronze", "silver", "gold"])
    xp = serializers.IntegerField()
    credits = serializers.IntegerField()
    progress = serializers.IntegerField()
    target = serializers.IntegerField()
    unlocked_at = serializers.DateTimeField(allow_null=True)


class StreakSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    best = serializers.IntegerField()
    freezes = serializers.IntegerField()
    last_active_date = serializers.DateField(allow_null=True)


class ProfileSerializer(serializers.Serializer):
    experience_points = serializers.IntegerField()
    level = serializers.IntegerField()
    user_rank = serializers.CharField()
    credits = serializers.IntegerField()
    level_xp = serializers.IntegerField(help_text="Total XP at which the current level started.")
    next_level_xp = serializers.IntegerField(help_text="Total XP at which the next level starts.")
    xp_to_next_level = serializers.IntegerField()
    streak = StreakSerializer()
    badges = BadgeSerializer(many=True)


class XPEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = XPEvent
        fields = ["id", "amount", "total_after", "reason", "source", "created_at"]


class CreditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditEntry
        fields = ["id", "delta", "balance_after", "reason", "source", "created_at"]


class LeaderboardQuerySerializer(serializers.Serializer):
    board = serializers.ChoiceField(choices=BOARDS, default="all-time")
    around = serializers.ChoiceField(choices=["me"], required=False)
    page = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=10)
    radius = serializers.IntegerField(min_value=1, max_value=25, default=5)


class LeaderboardUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True, help_text="The user's avatar picture; null: none.")


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = LeaderboardUserSerializer()
    score = serializers.IntegerField()


class LeaderboardMeSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.IntegerField()


class LeaderboardSerializer(serializers.Serializer):
    board = serializers.ChoiceField(choices=BOARDS)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LeaderboardEntrySerializer(many=True)
    me = LeaderboardMeSerializer(allow_null=True)
    around = LeaderboardEntrySerializer(many=True, required=False)


class AwardInputSerializer(serializers.Serializer):
    user = serializers.UUIDField()
    amount = serializers.IntegerField(min_value=1, max_value=10_000)
    reason = serializers.RegexField(r"^[a-z][a-z0-9_.-]*$", max_length=64, default="staff.award")
    idempotency_key = serializers.CharField(max_length=150)


class AwardSerializer(serializers.Serializer):
    event_id = serializers.IntegerField(allow_null=True)
    amount = serializers.IntegerField()
    total_xp = serializers.IntegerField()
    level = serializers.IntegerField()
    created = serializers.BooleanField()


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "payload", "created_at", "read_at", "read"]
        read_only_fields = fields

    def get_read(self, row: Notification) -> bool:
        return row.read_at is not None


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="`true`: unread ones only.")


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=200)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if bool(attrs.get("ids")) == attrs["all"]:
            raise serializers.ValidationError({"ids": ["Give either ids (a non-empty list) or all: true."]})
        return attrs


class NotificationReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()
