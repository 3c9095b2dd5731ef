"""Board periods, Redis key names and the score encoding shared by writes, reads and the rebuild.

A score is `xp * 2**32 + (2**32 - 1 - last_xp_event_id)`, so equal XP ranks whoever reached it
first (the smaller id of their latest award); exact while XP < 2**21 per board.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SEQ_SPACE = 2**32
KEY_PREFIX = "lb:"
NAMES_KEY = f"{KEY_PREFIX}names"


@dataclass(frozen=True)
class Ranked:
    rank: int
    user_id: str
    username: str
    score: int

    def as_entry(self) -> dict:
        return {"rank": self.rank, "user": {"id": self.user_id, "username": self.username}, "score": self.score}


def period_bounds(board: str, moment: datetime) -> tuple[datetime | None, datetime | None]:
    """UTC [start, end) of the board's period containing `moment` (None for all-time)."""
    moment = moment.astimezone(UTC)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if board == "weekly":  # ISO week: Monday to Monday
        start = day - timedelta(days=moment.weekday())
        return start, start + timedelta(days=7)
    if board == "monthly":
        start = day.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1)
    return None, None


def expire_at(board: str, moment: datetime) -> int | None:
    """When the key of the board's period containing `moment` expires (None: never)."""
    _, end = period_bounds(board, moment)
    return int(end.timestamp()) if end else None


def board_key(board: str, moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if board == "weekly":
        iso = moment.isocalendar()
        return f"{KEY_PREFIX}weekly:{iso.year}-W{iso.week:02d}"
    if board == "monthly":
        return f"{KEY_PREFIX}monthly:{moment:%Y-%m}"
    return f"{KEY_PREFIX}all-time"


def ready_key(key: str) -> str:
    """Set once the board's key holds every ranked user: reads trust Redis only then."""
    return f"{key}:ready"


def encode_score(xp: int, last_event_id: int) -> int:
    return xp * SEQ_SPACE + (SEQ_SPACE - 1 - last_event_id % SEQ_SPACE)


def decode_score(score: float) -> int:
    return int(score) // SEQ_SPACE
