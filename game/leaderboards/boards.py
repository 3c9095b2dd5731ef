"""Board names, periods, Redis key names and the score encoding shared by writes, reads and the rebuild.

The boards: XP `all-time`, `weekly` and `monthly`, `skill` points, and one `challenge-<slug>` per
challenge (best score). A Redis score is `score * space + (space - 1 - tie)`, so equal scores
rank the smaller tie first. The tie of the XP and skill boards is the id of the ledger row that
reached the score (whoever got there first; space 2**32, exact while scores < 2**21); that of a
challenge board is `prompt_tokens * 2**29 + activity id` (fewer tokens, then earlier; exact while
tokens < 2**14).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SEQ_SPACE = 2**32
CHALLENGE_SEQ_SPACE = 2**29
CHALLENGE_TOKENS_MAX = 2**14 - 1
KEY_PREFIX = "lb:"
NAMES_KEY = f"{KEY_PREFIX}names"
# member -> avatar URL, for the users who have one (set when it changes and by the rebuild).
AVATARS_KEY = f"{KEY_PREFIX}avatars"
CHALLENGE_BOARD_PREFIX = "challenge-"
# The boards with fixed names; challenge boards come and go with the challenges solved.
BOARDS: tuple[str, ...] = ("all-time", "weekly", "monthly", "skill")
_CHALLENGE_BOARD = re.compile(rf"{CHALLENGE_BOARD_PREFIX}([-a-zA-Z0-9_]{{1,100}})")


@dataclass(frozen=True)
class Ranked:
    rank: int
    user_id: str
    username: str
    score: int
    prompt_tokens: int | None = None  # challenge boards only
    avatar_url: str | None = None

    def as_entry(self) -> dict:
        user = {"id": self.user_id, "username": self.username, "avatar_url": self.avatar_url}
        entry = {"rank": self.rank, "user": user, "score": self.score}
        return entry if self.prompt_tokens is None else {**entry, "prompt_tokens": self.prompt_tokens}


def challenge_board(slug: str) -> str:
    return f"{CHALLENGE_BOARD_PREFIX}{slug}"


def challenge_of(board: str) -> str | None:
    """The slug of a challenge board's name (None for any other name)."""
    match = _CHALLENGE_BOARD.fullmatch(board)
    return match[1] if match else None


def is_board(board: str) -> bool:
    return board in BOARDS or challenge_of(board) is not None


def period_bounds(board: str, moment: datetime) -> tuple[datetime | None, datetime | None]:
    """UTC [start, end) of the board's period containing `moment` (None for boards without periods)."""
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
    return f"{KEY_PREFIX}{board}"


def ready_key(key: str) -> str:
    """Set once the board's key holds every ranked user: reads trust Redis only then."""
    return f"{key}:ready"


def challenge_tie(prompt_tokens: int, activity_id: int) -> int:
    return min(prompt_tokens, CHALLENGE_TOKENS_MAX) * CHALLENGE_SEQ_SPACE + activity_id % CHALLENGE_SEQ_SPACE


def _space(board: str) -> int:
    return (CHALLENGE_TOKENS_MAX + 1) * CHALLENGE_SEQ_SPACE if challenge_of(board) else SEQ_SPACE


def encode_score(board: str, score: int, tie: int) -> int:
    space = _space(board)
    return score * space + (space - 1 - tie % space)


def decode_score(board: str, encoded: float) -> tuple[int, int]:
    """(score, tie) of an encoded Redis score."""
    space = _space(board)
    score, rest = divmod(int(encoded), space)
    return score, space - 1 - rest


def ranked_entry(
    board: str, rank: int, user_id, username: str, score: int, tie: int, avatar_url: str | None = None
) -> Ranked:
    tokens = tie // CHALLENGE_SEQ_SPACE if challenge_of(board) else None
    return Ranked(
        rank=rank, user_id=str(user_id), username=username, score=score, prompt_tokens=tokens, avatar_url=avatar_url
    )
