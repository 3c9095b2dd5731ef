"""Leaderboards: Redis sorted sets for speed, the XP ledger in the database as the truth.

Score encoding: `xp * 2**32 + (2**32 - 1 - last_xp_event_id)`, so equal XP ranks whoever
reached it first (the smaller id of their latest award). Exact while XP < 2**21 per board.
Writes set absolute scores with `ZADD GT` (XP never goes down), so late or repeated writes are
harmless. A board key is trusted only once `leaderboard_rebuild` has marked it ready; until then,
and whenever Redis fails, reads come from SQL in the same order.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Q, Sum
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from game.events import BOARDS
from game.models import XPEvent

logger = logging.getLogger(__name__)
User = get_user_model()

SEQ_SPACE = 2**32
KEY_PREFIX = "lb:"
NAMES_KEY = f"{KEY_PREFIX}names"
REBUILD_CHUNK = 2000


@dataclass(frozen=True)
class Ranked:
    rank: int
    user_id: str
    username: str
    score: int

    def as_entry(self) -> dict:
        return {"rank": self.rank, "user": {"id": self.user_id, "username": self.username}, "score": self.score}


# --- periods -----------------------------------------------------------------------------


def period_bounds(board: str, moment: datetime) -> tuple[datetime | None, datetime | None]:
    """UTC [start, end) of the board's period containing `moment` (None for all-time)."""
    moment = moment.astimezone(UTC)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if board == "weekly":  # ISO week: Monday to Monday
        start = day - timedelta(days=moment.weekday())
        return start, start + timedelta(days=7)
    if board == "monthly":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    return None, None


def board_key(board: str, moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if board == "weekly":
        iso = moment.isocalendar()
        return f"{KEY_PREFIX}weekly:{iso.year}-W{iso.week:02d}"
    if board == "monthly":
        return f"{KEY_PREFIX}monthly:{moment:%Y-%m}"
    return f"{KEY_PREFIX}all-time"


def ready_key(key: str) -> str:
    return f"{key}:ready"


def encode_score(xp: int, last_event_id: int) -> int:
    return xp * SEQ_SPACE + (SEQ_SPACE - 1 - last_event_id % SEQ_SPACE)


def decode_score(score: float) -> int:
    return int(score) // SEQ_SPACE


# --- Redis ---------------------------------------------------------------------------------


# After a failed Redis read, reads go straight to SQL for this long instead of waiting on Redis again.
REDIS_BACKOFF_SECONDS = 5.0
_redis_down_until = 0.0


@cache
def redis_client() -> redis.Redis | None:
    """A shared client with short timeouts and no retries: an outage degrades to SQL rather than hanging."""
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=1.0,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


def _redis_failed() -> None:
    global _redis_down_until
    logger.warning("leaderboard Redis unavailable; reading from SQL for %.0f s", REDIS_BACKOFF_SECONDS)
    _redis_down_until = time.monotonic() + REDIS_BACKOFF_SECONDS


def _redis_usable() -> bool:
    return time.monotonic() >= _redis_down_until


def _expire_at(board: str, moment: datetime) -> int | None:
    _, end = period_bounds(board, moment)
    return int(end.timestamp()) if end else None


# One round trip and one reply per award (a pipeline of the same commands costs several times the
# CPU to pack and parse). KEYS: the n board keys, the names hash, then optionally the board to
# rank on and its ready marker. ARGV: member, username, n, then per board its score and expiry
# (0: none). Returns the member's 1-based rank on that board when the board is ready, else nil.
_WRITE_SCRIPT = """
local member, n = ARGV[1], tonumber(ARGV[3])
for i = 1, n do
  redis.call('ZADD', KEYS[i], 'GT', ARGV[2 + 2 * i], member)
  local at = tonumber(ARGV[3 + 2 * i])
  if at > 0 then redis.call('EXPIREAT', KEYS[i], at) end
end
redis.call('HSET', KEYS[n + 1], member, ARGV[2])
if #KEYS > n + 1 and redis.call('EXISTS', KEYS[n + 3]) == 1 then
  local rank = redis.call('ZREVRANK', KEYS[n + 2], member)
  if rank then return rank + 1 end
end
return false
"""


@cache
def _write_script(client: redis.Redis):
    return client.register_script(_WRITE_SCRIPT)  # EVALSHA, loading the script again if Redis lost it


def leaderboard_write(
    *, user_id, username: str, scores: dict[str, tuple[int, int]], moment: datetime, rank_on: str | None = None
) -> dict[str, int]:
    """Set a user's scores, `{board: (xp, last_xp_event_id)}`, on the boards of `moment`'s periods.

    With `rank_on`, the same round trip reads the user's new rank on that board: returned as
    `{board: rank}` when the board is ready in Redis (else `{}`).
    """
    client = redis_client()
    if client is None:
        return {}
    keys = [board_key(board, moment) for board in scores]
    args: list[str | int] = [str(user_id), username, len(scores)]
    for board, (xp, last_id) in scores.items():
        args += [encode_score(xp, last_id), _expire_at(board, moment) or 0]
    keys.append(NAMES_KEY)
    if rank_on is not None:
        rank_key = board_key(rank_on, moment)
        keys += [rank_key, ready_key(rank_key)]
    rank = _write_script(client)(keys=keys, args=args)
    return {rank_on: int(rank)} if rank_on is not None and rank is not None else {}


def _redis_ready(client: redis.Redis, key: str) -> bool:
    return bool(client.exists(ready_key(key)))


def _names(client: redis.Redis, ids: list[str]) -> list[str]:
    return client.hmget(NAMES_KEY, ids) if ids else []


def _redis_range(client: redis.Redis, key: str, start: int, stop: int) -> list[Ranked]:
    rows = client.zrevrange(key, start, stop, withscores=True)
    names = _names(client, [member for member, _ in rows])
    return [
        Ranked(rank=start + i + 1, user_id=member, username=name or "", score=decode_score(score))
        for i, ((member, score), name) in enumerate(zip(rows, names, strict=True))
    ]


# --- SQL (the truth, and the fallback) ------------------------------------------------------


def _sql_rows(board: str, moment: datetime):
    """(user_id, username, score, last_xp_event_id) ordered by rank."""
    if board == "all-time":
        return (
            User.objects.filter(experience_points__gt=0)
            .order_by("-experience_points", "game_stats__last_xp_event_id")
            .values_list("id", "username", "experience_points", "game_stats__last_xp_event_id")
        )
    start, end = period_bounds(board, moment)
    return (
        XPEvent.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("user_id", "user__username")
        .annotate(score=Sum("amount"), last=Max("id"))
        .order_by("-score", "last")
        .values_list("user_id", "user__username", "score", "last")
    )


def _sql_range(board: str, moment: datetime, offset: int, limit: int) -> list[Ranked]:
    rows = _sql_rows(board, moment)[offset : offset + limit]
    return [
        Ranked(rank=offset + i + 1, user_id=str(uid), username=name, score=score)
        for i, (uid, name, score, _last) in enumerate(rows)
    ]


def _sql_rank(board: str, moment: datetime, user_id) -> tuple[int, int] | None:
    """(rank, score) of the user on the board, or None when unranked."""
    if board == "all-time":
        row = (
            User.objects.filter(pk=user_id, experience_points__gt=0)
            .values_list("experience_points", "game_stats__last_xp_event_id")
            .first()
        )
        if row is None:
            return None
        xp, last = row
        ahead = User.objects.filter(
            Q(experience_points__gt=xp) | Q(experience_points=xp, game_stats__last_xp_event_id__lt=last)
        ).count()
        return ahead + 1, xp
    for index, (uid, _name, score, _last) in enumerate(_sql_rows(board, moment).iterator()):
        if str(uid) == str(user_id):
            return index + 1, score
    return None


def _sql_count(board: str, moment: datetime) -> int:
    return _sql_rows(board, moment).count()


# --- reads -----------------------------------------------------------------------------------


def _ready_client(board: str, moment: datetime) -> tuple[redis.Redis | None, str]:
    key = board_key(board, moment)
    client = redis_client()
    try:
        if client is not None and _redis_usable() and _redis_ready(client, key):
            return client, key
    except redis.RedisError:
        _redis_failed()
    return None, key


def leaderboard_top(*, board: str, limit: int, offset: int = 0, moment: datetime | None = None) -> list[Ranked]:
    """Entries ranked offset+1 .. offset+limit."""
    moment = moment or timezone.now()
    client, key = _ready_client(board, moment)
    if client is not None:
        try:
            return _redis_range(client, key, offset, offset + limit - 1)
        except redis.RedisError:
            _redis_failed()
    return _sql_range(board, moment, offset, limit)


def leaderboard_count(*, board: str, moment: datetime | None = None) -> int:
    moment = moment or timezone.now()
    client, key = _ready_client(board, moment)
    if client is not None:
        try:
            return client.zcard(key)
        except redis.RedisError:
            _redis_failed()
    return _sql_count(board, moment)


def leaderboard_rank(
    *, board: str, user_id, moment: datetime | None = None, sql_fallback: bool = True
) -> tuple[int, int] | None:
    """(rank, score) of `user_id`, or None when not on the board (or unknown without `sql_fallback`)."""
    moment = moment or timezone.now()
    client, key = _ready_client(board, moment)
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            pipe.zrevrank(key, str(user_id))
            pipe.zscore(key, str(user_id))
            rank, score = pipe.execute()
            return None if rank is None else (rank + 1, decode_score(score))
        except redis.RedisError:
            _redis_failed()
    return _sql_rank(board, moment, user_id) if sql_fallback else None


def leaderboard_around(*, board: str, user_id, radius: int, moment: datetime | None = None) -> list[Ranked]:
    """The window of up to `radius` entries either side of the user (empty when unranked)."""
    moment = moment or timezone.now()
    mine = leaderboard_rank(board=board, user_id=user_id, moment=moment)
    if mine is None:
        return []
    offset = max(mine[0] - 1 - radius, 0)
    return leaderboard_top(board=board, limit=mine[0] - offset + radius, offset=offset, moment=moment)


# --- rebuild ---------------------------------------------------------------------------------


def leaderboard_rebuild(*, boards: tuple[str, ...] = BOARDS, moment: datetime | None = None) -> dict[str, int]:
    """Rebuild the current period of each board from the ledger; returns ranked users per board."""
    client = redis_client()
    if client is None:
        return {}
    moment = moment or timezone.now()
    counts: dict[str, int] = {}
    for board in boards:
        key = board_key(board, moment)
        tmp = f"{key}:rebuild"
        high_water = XPEvent.objects.aggregate(top=Max("id"))["top"] or 0
        client.delete(tmp)
        count = 0
        pipe = client.pipeline(transaction=False)
        for uid, name, score, last in _sql_rows(board, moment).iterator(chunk_size=REBUILD_CHUNK):
            member = str(uid)
            pipe.zadd(tmp, {member: encode_score(score, last or 0)})
            pipe.hset(NAMES_KEY, member, name)
            count += 1
            if count % REBUILD_CHUNK == 0:
                pipe.execute()
        pipe.execute()
        swap = client.pipeline(transaction=True)
        if count:
            swap.rename(tmp, key)
        else:
            swap.delete(key)
        swap.set(ready_key(key), "1")
        if (expire_at := _expire_at(board, moment)) is not None:
            if count:
                swap.expireat(key, expire_at)
            swap.expireat(ready_key(key), expire_at)
        swap.execute()
        _replay_since(board, moment, high_water)
        _ready_next_period(client, board, moment)
        counts[board] = count
    return counts


def _ready_next_period(client: redis.Redis, board: str, moment: datetime) -> None:
    """The next week's/month's board starts empty and complete: every award from its first writes it."""
    _, end = period_bounds(board, moment)
    if end is None:
        return
    _, next_end = period_bounds(board, end)
    client.set(ready_key(board_key(board, end)), "1", nx=True, exat=int(next_end.timestamp()))


def _replay_since(board: str, moment: datetime, high_water: int) -> None:
    """Awards committed while the rebuild read the ledger may have gone to the replaced key."""
    late_users = set(XPEvent.objects.filter(id__gt=high_water).values_list("user_id", flat=True))
    if not late_users:
        return
    for uid, name, score, last in _sql_rows(board, moment):
        if uid in late_users:
            leaderboard_write(user_id=uid, username=name, scores={board: (score, last or 0)}, moment=moment)


# --- async reads for the widget hub (no thread hop on the server's event loop) -----------------

_async_clients: dict[int, object] = {}
# user id -> username as last read by this process's widget hub; forgotten every NAMES_SEEN_SECONDS
# (a renamed user shows their new name within that time) or when it grows large.
_names_seen: dict[str, str] = {}
_names_seen_since = 0.0
NAMES_SEEN_MAX = 50_000
NAMES_SEEN_SECONDS = 60.0


def _async_client():
    """A redis.asyncio client for the running loop (clients are bound to the loop they start on)."""
    import asyncio

    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff as AsyncNoBackoff

    loop = asyncio.get_running_loop()
    client = _async_clients.get(id(loop))
    if client is None or client[0] is not loop:
        client = _async_clients[id(loop)] = (
            loop,
            aioredis.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=1.0,
                socket_connect_timeout=0.5,
                retry=AsyncRetry(AsyncNoBackoff(), 0),
                decode_responses=True,
            ),
        )
    return client[1]


async def leaderboard_top_cached(*, board: str, limit: int) -> list[Ranked] | None:
    """Top entries straight from Redis, or None when the board is not ready there (callers use SQL)."""
    if not settings.REDIS_URL or not _redis_usable():
        return None
    global _names_seen_since
    if len(_names_seen) > NAMES_SEEN_MAX or time.monotonic() - _names_seen_since > NAMES_SEEN_SECONDS:
        _names_seen.clear()
        _names_seen_since = time.monotonic()
    client = _async_client()
    key = board_key(board, timezone.now())
    try:
        pipe = client.pipeline(transaction=False)
        pipe.exists(ready_key(key))
        pipe.zrevrange(key, 0, limit - 1, withscores=True)
        ready, rows = await pipe.execute()
        if not ready:
            return None
        unknown = [member for member, _ in rows if member not in _names_seen]
        if unknown:  # usernames rarely change: this process keeps those it has read
            fetched = await client.hmget(NAMES_KEY, unknown)
            _names_seen.update((member, name) for member, name in zip(unknown, fetched, strict=True) if name)
        names = [_names_seen.get(member, "") for member, _ in rows]
    except redis.RedisError:
        _redis_failed()
        return None
    return [
        Ranked(rank=i + 1, user_id=member, username=name or "", score=decode_score(score))
        for i, ((member, score), name) in enumerate(zip(rows, names, strict=True))
    ]
