from rest_framework import serializers

from insights.selectors import MAX_DAYS


class WindowQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=30)


class InsightsSerializer(serializers.Serializer):
    """Analytics document: `window`, `totals` and zero-filled `daily_*` series (one row per day)."""

    window = serializers.DictField()
    totals = serializers.DictField()
