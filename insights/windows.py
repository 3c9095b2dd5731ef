"""An insights request's window: local dates `from`..`to` in the viewer's zone, cut into buckets."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import timezone
from rest_framework import serializers

MAX_DAYS = 366
DEFAULT_DAYS = 30
BUCKETS = ("day", "week", "month")


@dataclass(frozen=True)
class Window:
    first: date  # local, inclusive
    last: date  # local, inclusive
    tz_name: str
    bucket: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def start(self) -> datetime:
        """The first local midnight, in UTC."""
        return datetime.combine(self.first, time.min, tzinfo=self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The local midnight after the last day, in UTC."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def buckets(self) -> list[date]:
        """The first day of every bucket that meets the window (a week begins on Monday)."""
        keys: list[date] = []
        day = self.first
        while day <= self.last:
            key = bucket_start(day, self.bucket)
            if not keys or keys[-1] != key:
                keys.append(key)
            day += timedelta(days=1)
        return keys

    def describe(self) -> dict:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "days": self.days,
            "tz": self.tz_name,
            "bucket": self.bucket,
        }


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


@cache  # a scan of the zone database: once per process
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


class WindowQuerySerializer(serializers.Serializer):
    """`from`, `to` (local dates, inclusive), or `days` ending `to`; `bucket`; `tz` (IANA name)."""

    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, required=False)
    to = serializers.DateField(required=False)
    bucket = serializers.ChoiceField(choices=BUCKETS, default="day")
    tz = serializers.CharField(required=False, max_length=64)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a keyword in Python
        return fields

    def validate_tz(self, value: str) -> str:
        if value not in _zone_names():
            raise serializers.ValidationError("Unknown time zone (use an IANA name such as Europe/Paris).")
        return value

    def validate(self, attrs: dict) -> dict:
        if "from" in attrs and "days" in attrs:
            raise serializers.ValidationError({"days": "Give either from or days, not both."})
        return attrs


_QUERY_FIELDS = ("from", "to", "days", "bucket", "tz")


@lru_cache(maxsize=1024)  # a repeated request skips the serializer; bad input raises, and is never cached
def _validated(query: tuple[tuple[str, str], ...]) -> MappingProxyType:
    serializer = WindowQuerySerializer(data=dict(query))
    serializer.is_valid(raise_exception=True)
    return MappingProxyType(dict(serializer.validated_data))


def window_from(query: dict, *, default_tz: str) -> Window:
    """Validate the query (400 naming the field on bad input) into a Window."""
    data = _validated(tuple((name, query[name]) for name in _QUERY_FIELDS if name in query))
    tz_name = data.get("tz") or _known(default_tz)
    last = data.get("to") or timezone.now().astimezone(ZoneInfo(tz_name)).date()
    first = data.get("from") or last - timedelta(days=data.get("days", DEFAULT_DAYS) - 1)
    if first > last:
        raise serializers.ValidationError({"from": "from must not be after to."})
    if (last - first).days + 1 > MAX_DAYS:
        raise serializers.ValidationError({"from": f"The range may span at most {MAX_DAYS} days."})
    return Window(first=first, last=last, tz_name=tz_name, bucket=data["bucket"])


def _known(tz_name: str) -> str:
    try:
        ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return tz_name or "UTC"
