"""Leaderboard reads: from Redis once a board is ready there, from SQL in the same order otherwise."""

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import redis
from channels.db import database_sync_to_async
from django.utils import timezone

from core.redis import async_redis_client, redis_client, redis_url
from game.leaderboards.boards import AVATARS_KEY, NAMES_KEY, Ranked, board_key, decode_score, ranked_entry, ready_key
from game.leaderboards.ranking import sql_count, sql_range, sql_rank

logger = logging.getLogger(__name__)
T = TypeVar("T")

# After a failed Redis read, reads go straight to SQL for this long instead of waiting on Redis again.
REDIS_BACKOFF_SECONDS = 5.0
_redis_down_until = 0.0


def _redis_failed() -> None:
    global _redis_down_until
    logger.warning("leaderboard Redis unavailable; reading from SQL for %.0f s", REDIS_BACKOFF_SECONDS)
    _redis_down_until = time.monotonic() + REDIS_BACKOFF_SECONDS


def _redis_usable() -> bool:
    return bool(redis_url("leaderboards")) and time.monotonic() >= _redis_down_until


def _ranked(board: str, rows: list[tuple[str, float]], profiles: list[list], start: int) -> list[Ranked]:
    """Ranked entries from the sorted set's rows and their [names, avatar URLs] (empty lists for no rows)."""
    names, avatars = profiles
    return [
        ranked_entry(board, start + i + 1, member, name or "", *decode_score(board, score), avatar or None)
        for i, ((member, score), name, avatar) in enumerate(zip(rows, names, avatars, strict=True))
    ]


def _profiles(client, rows: list[tuple[str, float]]):
    """[names, avatar URLs] of the rows' members in one round trip: a pipeline (awaitable on an async client)."""
    members = [member for member, _ in rows]
    pipe = client.pipeline(transaction=False)
    pipe.hmget(NAMES_KEY, members)
    pipe.hmget(AVATARS_KEY, members)
    return pipe.execute()


def redis_range(client: redis.Redis, board: str, key: str, start: int, stop: int) -> list[Ranked]:
    """Entries ranked start+1 .. stop+1 of the board at `key`, as Redis holds them."""
    rows = client.zrevrange(key, start, stop, withscores=True)
    return _ranked(board, rows, _profiles(client, rows) if rows else [[], []], start)


# What `_redis_read` answers when Redis cannot: the caller reads SQL instead.
_UNAVAILABLE = object()


def _redis_read(board: str, moment: datetime, read: Callable[[redis.Redis, str], T]) -> T | object:
    """`read(client, key)` when Redis is up and the board is ready there, else `_UNAVAILABLE`."""
    if not _redis_usable():
        return _UNAVAILABLE
    client, key = redis_client(role="leaderboards"), board_key(board, moment)
    try:
        return read(client, key) if client.exists(ready_key(key)) else _UNAVAILABLE
    except redis.RedisError:
        _redis_failed()
        return _UNAVAILABLE


def leaderboard_top(*, board: str, limit: int, offset: int = 0, moment: datetime | None = None) -> list[Ranked]:
    """Entries ranked offset+1 .. offset+limit."""
    moment = moment or timezone.now()
    top = _redis_read(board, moment, lambda client, key: redis_range(client, board, key, offset, offset + limit - 1))
    return sql_range(board, moment, offset, limit) if top is _UNAVAILABLE else top


def leaderboard_count(*, board: str, moment: datetime | None = None) -> int:
    moment = moment or timezone.now()
    count = _redis_read(board, moment, lambda client, key: client.zcard(key))
    return sql_count(board, moment) if count is _UNAVAILABLE else count


def _redis_rank(client: redis.Redis, board: str, key: str, user_id) -> tuple[int, int] | None:
    pipe = client.pipeline(transaction=False)
    pipe.zrevrank(key, str(user_id))
    pipe.zscore(key, str(user_id))
    rank, score = pipe.execute()
    return None if rank is None else (rank + 1, decode_score(board, score)[0])


def leaderboard_rank(*, board: str, user_id, moment: datetime | None = None) -> tuple[int, int] | None:
    """(rank, score) of `user_id`, or None when not on the board."""
    moment = moment or timezone.now()
    mine = _redis_read(board, moment, lambda client, key: _redis_rank(client, board, key, user_id))
    return sql_rank(board, moment, user_id) if mine is _UNAVAILABLE else mine


def leaderboard_around(*, board: str, user_id, radius: int, moment: datetime | None = None) -> list[Ranked]:
    """The window of up to `radius` entries either side of the user (empty when unranked)."""
    moment = moment or timezone.now()
    mine = leaderboard_rank(board=board, user_id=user_id, moment=moment)
    if mine is None:
        return []
    offset = max(mine[0] - 1 - radius, 0)
    return leaderboard_top(board=board, limit=mine[0] - offset + radius, offset=offset, moment=moment)


async def leaderboard_top_async(*, board: str, limit: int) -> list[Ranked]:
    """leaderboard_top for the server's event loop: Redis on the loop itself, SQL in a thread."""
    if _redis_usable():
        key = board_key(board, timezone.now())
        client = async_redis_client(role="leaderboards")
        try:
            pipe = client.pipeline(transaction=False)
            pipe.exists(ready_key(key))
            pipe.zrevrange(key, 0, limit - 1, withscores=True)
            ready, rows = await pipe.execute()
            if ready:
                return _ranked(board, rows, await _profiles(client, rows) if rows else [[], []], 0)
        except redis.RedisError:
            _redis_failed()
    return await database_sync_to_async(leaderboard_top)(board=board, limit=limit)
