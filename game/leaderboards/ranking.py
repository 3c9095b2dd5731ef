"""The boards' order computed from the ledgers in SQL: the truth that Redis mirrors."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, Expression, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Least, Mod

from accounts.avatars import avatar_url
from game.leaderboards.boards import (
    CHALLENGE_SEQ_SPACE,
    CHALLENGE_TOKENS_MAX,
    Ranked,
    challenge_board,
    challenge_of,
    period_bounds,
    ranked_entry,
)
from game.models import ChallengeBest, PlayerStats, XPEvent

User = get_user_model()


@dataclass(frozen=True)
class _Table:
    """A board kept as one row per user: rank order is `score` descending, then `order` ascending."""

    rows: QuerySet
    user: str
    username: str
    avatar: str
    score: str
    order: tuple[str, ...]
    tie: Expression  # `order` as one number, as the Redis score encodes it

    def ordered(self) -> QuerySet:
        return self.rows.order_by(f"-{self.score}", *self.order).values_list(
            self.user, self.username, self.avatar, self.score, self.tie
        )

    def ahead(self, values: tuple) -> Q:
        """Rows ranked before a row with these (score, *order) values."""
        before, equal = Q(**{f"{self.score}__gt": values[0]}), Q(**{self.score: values[0]})
        for field, value in zip(self.order, values[1:], strict=True):
            before |= equal & Q(**{f"{field}__lt": value})
            equal &= Q(**{field: value})
        return before


# Deleted accounts keep their ledgers (the totals stay true) but leave every board.
RANKED_USER = Q(user__deleted_at__isnull=True)


def _table(board: str) -> _Table | None:
    if board == "all-time":
        last = "game_stats__last_xp_event_id"
        users = User.objects.filter(experience_points__gt=0, deleted_at__isnull=True)
        return _Table(users, "id", "username", "avatar", "experience_points", (last,), F(last))
    if board == "skill":
        players = PlayerStats.objects.filter(RANKED_USER, skill_points__gt=0)
        last = "last_skill_activity_id"
        return _Table(players, "user_id", "user__username", "user__avatar", "skill_points", (last,), F(last))
    if slug := challenge_of(board):
        tokens = Cast(Least(F("prompt_tokens"), Value(CHALLENGE_TOKENS_MAX)), BigIntegerField())
        tie = tokens * CHALLENGE_SEQ_SPACE + Mod(F("activity_id"), Value(CHALLENGE_SEQ_SPACE))
        bests = ChallengeBest.objects.filter(RANKED_USER, challenge=slug)
        return _Table(
            bests, "user_id", "user__username", "user__avatar", "score", ("prompt_tokens", "activity_id"), tie
        )
    return None


def ranked_rows(board: str, moment: datetime) -> QuerySet:
    """(user_id, username, avatar name, score, tie) in rank order: equal scores rank the smaller tie first."""
    if table := _table(board):
        return table.ordered()
    start, end = period_bounds(board, moment)
    return (
        XPEvent.objects.filter(RANKED_USER, created_at__gte=start, created_at__lt=end)
        .values("user_id", "user__username", "user__avatar")
        .annotate(score=Sum("amount"), last=Max("id"))
        .order_by("-score", "last")
        .values_list("user_id", "user__username", "user__avatar", "score", "last")
    )


def sql_range(board: str, moment: datetime, offset: int, limit: int) -> list[Ranked]:
    rows = ranked_rows(board, moment)[offset : offset + limit]
    return [
        ranked_entry(board, offset + i + 1, uid, name, score, tie or 0, avatar_url(avatar))
        for i, (uid, name, avatar, score, tie) in enumerate(rows)
    ]


def sql_rank(board: str, moment: datetime, user_id) -> tuple[int, int] | None:
    """(rank, score) of the user on the board, or None when unranked."""
    if table := _table(board):
        values = table.rows.filter(**{table.user: user_id}).values_list(table.score, *table.order).first()
        return None if values is None else (table.rows.filter(table.ahead(values)).count() + 1, values[0])
    rows = ranked_rows(board, moment)
    values = rows.filter(user_id=user_id).values_list("score", "last").first()
    if values is None:
        return None
    score, last = values
    return rows.filter(Q(score__gt=score) | Q(score=score, last__lt=last)).count() + 1, score


def sql_count(board: str, moment: datetime) -> int:
    return ranked_rows(board, moment).count()


def high_water(board: str) -> int:
    """The newest ledger id among the board's scores (read it before the rows a rebuild copies)."""
    if table := _table(board):
        return table.rows.aggregate(top=Max(table.order[-1]))["top"] or 0
    return XPEvent.objects.aggregate(top=Max("id"))["top"] or 0


def rows_since(board: str, moment: datetime, since: int) -> QuerySet:
    """`ranked_rows` of the users whose score rose after ledger id `since`."""
    table = _table(board)
    return ranked_rows(board, moment).filter(**{f"{table.order[-1] if table else 'last'}__gt": since})


def challenge_boards() -> list[str]:
    """The board names of every challenge somebody has solved."""
    slugs = ChallengeBest.objects.order_by("challenge").values_list("challenge", flat=True).distinct()
    return [challenge_board(slug) for slug in slugs]
