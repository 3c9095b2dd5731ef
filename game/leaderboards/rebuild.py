"""Refill Redis from the ledgers: after an outage, a flush, or at the start of a period."""

from datetime import datetime

from django.utils import timezone

from accounts.avatars import avatar_url
from core.redis import redis_client, redis_url
from game.leaderboards.boards import (
    AVATARS_KEY,
    BOARDS,
    CHALLENGE_BOARD_PREFIX,
    KEY_PREFIX,
    NAMES_KEY,
    board_key,
    challenge_of,
    encode_score,
    expire_at,
    period_bounds,
    ready_key,
)
from game.leaderboards.ranking import challenge_boards, high_water, ranked_rows, rows_since
from game.leaderboards.writes import leaderboard_write

REBUILD_CHUNK = 2000


def every_board() -> list[str]:
    """The fixed boards, then every challenge board with a best in SQL or a key in Redis."""
    flags = redis_client(role="leaderboards").scan_iter(ready_key(f"{KEY_PREFIX}{CHALLENGE_BOARD_PREFIX}*"))
    in_redis = {flag.removeprefix(KEY_PREFIX).removesuffix(ready_key("")) for flag in flags}  # lb:<board>:ready
    return [*BOARDS, *sorted(in_redis.union(challenge_boards()))]


def leaderboard_rebuild(*, boards: tuple[str, ...] | None = None, moment: datetime | None = None) -> dict[str, int]:
    """Rebuild the current period of each board (default: every board); returns ranked users per board."""
    if not redis_url("leaderboards"):
        return {}
    client = redis_client(role="leaderboards")
    moment = moment or timezone.now()
    counts: dict[str, int] = {}
    for board in every_board() if boards is None else boards:
        key = board_key(board, moment)
        tmp = f"{key}:rebuild"
        since = high_water(board)
        client.delete(tmp)
        count = 0
        pipe = client.pipeline(transaction=False)
        for uid, name, avatar, score, tie in ranked_rows(board, moment).iterator(chunk_size=REBUILD_CHUNK):
            pipe.zadd(tmp, {str(uid): encode_score(board, score, tie or 0)})
            pipe.hset(NAMES_KEY, str(uid), name)
            # Also repairs a picture change that could not reach Redis when it happened.
            if avatar:
                pipe.hset(AVATARS_KEY, str(uid), avatar_url(avatar))
            else:
                pipe.hdel(AVATARS_KEY, str(uid))
            count += 1
            if count % REBUILD_CHUNK == 0:
                pipe.execute()
        pipe.execute()
        # The filled key replaces the board and marks it ready in one step: readers never see half.
        swap = client.pipeline(transaction=True)
        if count:
            swap.rename(tmp, key)
        else:
            swap.delete(key)
        if count or not challenge_of(board):
            swap.set(ready_key(key), "1")
        else:  # nobody holds a best on this challenge any more: leave no board behind
            swap.delete(ready_key(key))
        if (at := expire_at(board, moment)) is not None:
            if count:
                swap.expireat(key, at)
            swap.expireat(ready_key(key), at)
        swap.execute()
        _replay_since(board, moment, since)
        _ready_next_period(board, moment)
        counts[board] = count
    return counts


def _ready_next_period(board: str, moment: datetime) -> None:
    """The next week's/month's board starts empty and complete: every award from its first writes it."""
    _, end = period_bounds(board, moment)
    if end is not None:
        client = redis_client(role="leaderboards")
        client.set(ready_key(board_key(board, end)), "1", nx=True, exat=expire_at(board, end))


def _replay_since(board: str, moment: datetime, since: int) -> None:
    """Scores committed while the rebuild read the ledger may have gone to the replaced key."""
    for uid, name, _avatar, score, tie in rows_since(board, moment, since):
        leaderboard_write(user_id=uid, username=name, scores={board: (score, tie or 0)}, moment=moment)
