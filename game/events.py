"""The game's WebSocket messages (typed, extra fields forbidden) and group names, in one place."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from game.leaderboards.boards import is_board


def _board_name(name: str) -> str:
    if not is_board(name):
        raise ValueError(f"unknown board {name!r}")
    return name


BoardName = Annotated[str, AfterValidator(_board_name)]


def user_group(user_id) -> str:
    """Every socket of one user, on every server process."""
    return f"game.user.{user_id}"


def leaderboards_group() -> str:
    """One member per server process: the process's leaderboard hub (it fans out to local widgets)."""
    return "game.leaderboards"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class XPAwarded(Message):
    type: Literal["xp.awarded"] = "xp.awarded"
    amount: int
    reason: str
    total_xp: int
    level: int


class LevelUp(Message):
    type: Literal["level.up"] = "level.up"
    level: int
    rank: str


class BadgeInfo(Message):
    slug: str
    name: str
    description: str
    tier: Literal["bronze", "silver", "gold"]


class BadgeUnlocked(Message):
    type: Literal["badge.unlocked"] = "badge.unlocked"
    badge: BadgeInfo


class CreditsChanged(Message):
    type: Literal["credits.changed"] = "credits.changed"
    balance: int
    delta: int
    reason: str


class StreakUpdated(Message):
    type: Literal["streak.updated"] = "streak.updated"
    days: int


UserEvent = XPAwarded | LevelUp | BadgeUnlocked | CreditsChanged | StreakUpdated


class LeaderboardUser(Message):
    id: str
    username: str
    avatar_url: str | None = None  # null: no avatar (pages show the initials)


class LeaderboardEntry(Message):
    """Frames leave out `prompt_tokens` except on challenge boards."""

    rank: int
    user: LeaderboardUser
    score: int
    prompt_tokens: int | None = Field(default=None, exclude_if=lambda tokens: tokens is None)


class LeaderboardSnapshot(Message):
    type: Literal["leaderboard.snapshot"] = "leaderboard.snapshot"
    board: BoardName
    entries: list[LeaderboardEntry]


class LeaderboardUpdate(Message):
    type: Literal["leaderboard.update"] = "leaderboard.update"
    board: BoardName
    entries: list[LeaderboardEntry]


class LeaderboardsChanged(Message):
    """Channel-layer notice to every process's hub: these boards changed, re-read and fan out."""

    type: Literal["leaderboards.changed"] = "leaderboards.changed"
    boards: list[BoardName]


class NotificationsRead(Message):
    """To every socket of the user: notifications were marked read (on one device), `unread` is left."""

    type: Literal["notifications.read"] = "notifications.read"
    ids: list[int]
    all: bool
    unread: int
