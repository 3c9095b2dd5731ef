"""The boards' order computed from the ledger in SQL: the truth that Redis mirrors."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet, Sum

from game.leaderboards.boards import Ranked, period_bounds
from game.models import XPEvent

User = get_user_model()


def ranked_rows(board: str, moment: datetime) -> QuerySet:
    """(user_id, username, score, last_xp_event_id) in rank order: ties to whoever got there first."""
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


def sql_range(board: str, moment: datetime, offset: int, limit: int) -> list[Ranked]:
    rows = ranked_rows(board, moment)[offset : offset + limit]
    return [
        Ranked(rank=offset + i + 1, user_id=str(uid), username=name, score=score)
        for i, (uid, name, score, _last) in enumerate(rows)
    ]


def sql_rank(board: str, moment: datetime, user_id) -> tuple[int, int] | None:
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
    for index, (uid, _name, score, _last) in enumerate(ranked_rows(board, moment).iterator()):
        if str(uid) == str(user_id):
            return index + 1, score
    return None


def sql_count(board: str, moment: datetime) -> int:
    return ranked_rows(board, moment).count()
