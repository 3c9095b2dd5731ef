"""An award's scores into Redis, after its transaction committed."""

from datetime import datetime

from core.redis import redis_client, redis_url
from game.leaderboards.boards import AVATARS_KEY, NAMES_KEY, board_key, encode_score, expire_at, ready_key


def leaderboard_write(
    *, user_id, username: str, scores: dict[str, tuple[int, int]], moment: datetime, rank_on: str | None = None
) -> int | None:
    """Set a user's scores, `{board: (score, tie)}`, on the boards of `moment`'s periods.

    Scores are absolute and only ever raised (`ZADD GT`), so late or repeated writes are harmless.
    With `rank_on`, the same round trip reads the user's new rank on that board: returned when
    the board is ready in Redis, else None.
    """
    if not redis_url("leaderboards"):
        return None
    member = str(user_id)
    pipe = redis_client(role="leaderboards").pipeline(transaction=False)
    for board, (score, tie) in scores.items():
        key = board_key(board, moment)
        pipe.zadd(key, {member: encode_score(board, score, tie)}, gt=True)
        if (at := expire_at(board, moment)) is not None:
            pipe.expireat(key, at)
    pipe.hset(NAMES_KEY, member, username)
    if rank_on is not None:
        key = board_key(rank_on, moment)
        pipe.exists(ready_key(key))
        pipe.zrevrank(key, member)
    replies = pipe.execute()
    if rank_on is None or not replies[-2] or replies[-1] is None:
        return None
    return replies[-1] + 1


def leaderboard_remove(*, user_id, boards: list[str], moment: datetime) -> None:
    """Take a user off these boards (their periods containing `moment`): a deleted account."""
    if not redis_url("leaderboards"):
        return
    member = str(user_id)
    pipe = redis_client(role="leaderboards").pipeline(transaction=False)
    for board in boards:
        pipe.zrem(board_key(board, moment), member)
    pipe.hdel(NAMES_KEY, member)
    pipe.hdel(AVATARS_KEY, member)
    pipe.execute()


def leaderboard_avatar_write(*, user_id, avatar_url: str | None) -> None:
    """The picture the boards show for the user (None: their initials), after its change committed."""
    if not redis_url("leaderboards"):
        return
    client = redis_client(role="leaderboards")
    if avatar_url:
        client.hset(AVATARS_KEY, str(user_id), avatar_url)
    else:
        client.hdel(AVATARS_KEY, str(user_id))
