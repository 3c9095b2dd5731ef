from rest_framework import serializers

from insights.windows import WindowQuerySerializer

__all__ = ["InsightsSerializer", "WindowQuerySerializer"]


class InsightsSerializer(serializers.Serializer):
    """Analytics document: `window`, `totals` and a zero-filled `series` (one row per bucket)."""

    window = serializers.DictField()
    totals = serializers.DictField()
    series = serializers.ListField(child=serializers.DictField())
