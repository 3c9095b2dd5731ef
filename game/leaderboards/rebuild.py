"""Refill Redis from the ledger: after an outage, a flush, or at the start of a period."""

from datetime import datetime

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from core.redis import redis_client
from game.events import BOARDS
from game.leaderboards.boards import NAMES_KEY, board_key, encode_score, expire_at, period_bounds, ready_key
from game.leaderboards.ranking import ranked_rows
from game.leaderboards.writes import leaderboard_write
from game.models import XPEvent

REBUILD_CHUNK = 2000


def leaderboard_rebuild(*, boards: tuple[str, ...] = BOARDS, moment: datetime | None = None) -> dict[str, int]:
    """Rebuild the current period of each board from the ledger; returns ranked users per board."""
    if not settings.REDIS_URL:
        return {}
    client = redis_client()
    moment = moment or timezone.now()
    counts: dict[str, int] = {}
    for board in boards:
        key = board_key(board, moment)
        tmp = f"{key}:rebuild"
        high_water = XPEvent.objects.aggregate(top=Max("id"))["top"] or 0
        client.delete(tmp)
        count = 0
        pipe = client.pipeline(transaction=False)
        for uid, name, score, last in ranked_rows(board, moment).iterator(chunk_size=REBUILD_CHUNK):
            pipe.zadd(tmp, {str(uid): encode_score(score, last or 0)})
            pipe.hset(NAMES_KEY, str(uid), name)
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
        swap.set(ready_key(key), "1")
        if (at := expire_at(board, moment)) is not None:
            if count:
                swap.expireat(key, at)
            swap.expireat(ready_key(key), at)
        swap.execute()
        _replay_since(board, moment, high_water)
        _ready_next_period(board, moment)
        counts[board] = count
    return counts


def _ready_next_period(board: str, moment: datetime) -> None:
    """The next week's/month's board starts empty and complete: every award from its first writes it."""
    _, end = period_bounds(board, moment)
    if end is not None:
        client = redis_client()
        client.set(ready_key(board_key(board, end)), "1", nx=True, exat=expire_at(board, end))


def _replay_since(board: str, moment: datetime, high_water: int) -> None:
    """Awards committed while the rebuild read the ledger may have gone to the replaced key."""
    late_users = set(XPEvent.objects.filter(id__gt=high_water).values_list("user_id", flat=True))
    if not late_users:
        return
    for uid, name, score, last in ranked_rows(board, moment):
        if uid in late_users:
            leaderboard_write(user_id=uid, username=name, scores={board: (score, last or 0)}, moment=moment)
