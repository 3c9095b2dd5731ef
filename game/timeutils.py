"""Dates in a user's own timezone (streaks and daily caps count the user's local days), and the game's day."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from game.rules import GAME_DAY_MIN_HOURS


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


@dataclass(frozen=True)
class GameDay:
    """The day the game counts a player's caps, first-run bonus and streak on, and when it began."""

    day: date | None = None
    began: datetime | None = None


def game_day_at(current: GameDay, moment: datetime, tz_name: str) -> GameDay:
    """The game's day at `moment` for a player in `tz_name` whose game day is `current`.

    It is the local date, except that it never moves backwards and a later one opens only once
    GAME_DAY_MIN_HOURS have passed since `current` began: a time-zone change (east, then west, then
    east again) cannot open a second day within a day. A day begins at its local midnight, or at
    the earliest moment it was allowed to open if that is later. A DST day of 23 hours is a day.
    """
    zone = user_zone(tz_name)
    today = moment.astimezone(zone).date()
    midnight = datetime.combine(today, time.min, tzinfo=zone)
    if current.day is None or current.began is None:
        return GameDay(today, midnight)
    if today <= current.day:
        return current
    earliest = current.began + timedelta(hours=GAME_DAY_MIN_HOURS)
    if moment < earliest:
        return current
    return GameDay(today, max(midnight, earliest))
