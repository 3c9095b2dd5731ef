"""Dates in a user's own timezone (streaks and daily caps count the user's local days)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone


def user_zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, tz_name: str) -> date:
    """The calendar day `moment` falls on for someone living in `tz_name`."""
    return moment.astimezone(user_zone(tz_name)).date()


def local_today(tz_name: str) -> date:
    return local_date(timezone.now(), tz_name)
