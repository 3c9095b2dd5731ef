"""Game services: every write to progress (XP, level, rank), credits, badges and streaks.

Other apps call these; they never write game or counter fields themselves. Each service runs
in one transaction and broadcasts live events only on commit. Progress writes for one user are
serialised by locking the user row, so daily caps, streaks and badge checks see a consistent
state; credit changes lock the same user row, so the lock order is the same everywhere. The
statements of an award are prebuilt SQL (`game.progress_sql`): the ORM's per-call cost is most
of an award's CPU.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import DEFAULT_RANK
from game import leaderboards, progress_sql
from game.badges import BADGES_BY_SLUG, Badge, badges_watching
from game.broadcast import Outbox
from game.events import BadgeInfo, BadgeUnlocked, CreditsChanged, LevelUp, StreakUpdated, XPAwarded
from game.levels import level_for_xp, level_up_credits, rank_for_level
from game.models import Activity, BadgeUnlock, CreditEntry, PlayerStats, ProviderUse, XPEvent
from game.rules import (
    ACTIVITIES,
    RATED_XP_MIN_SCORE,
    STREAK_ACTIVITIES,
    STREAK_MILESTONES,
    XP_RULES,
    xp_key,
)
from game.streaks import StreakState, streak_advance
from game.timeutils import local_date

User = get_user_model()

WEEKLY_BADGE = "weekly-top-10"
WEEKLY_BADGE_RANK = BADGES_BY_SLUG[WEEKLY_BADGE].target


class InsufficientCredits(Exception):
    """The balance does not cover the amount; nothing was written."""


@dataclass(frozen=True)
class CreditResult:
    entry_id: int
    balance: int
    delta: int
    created: bool  # False when the idempotency key had been used: the first result is returned


@dataclass(frozen=True)
class XPResult:
    event_id: int | None  # None when a daily cap stopped the award
    amount: int
    total_xp: int
    level: int
    created: bool  # False for a used key (the first result) or a capped award


# --- credits -----------------------------------------------------------------------------------


def _credit_result(entry: CreditEntry, *, created: bool) -> CreditResult:
    return CreditResult(entry_id=entry.pk, balance=entry.balance_after, delta=entry.delta, created=created)


def _validate_amount(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer")


def _validate_credit_args(amount: int, reason: str, idempotency_key: str) -> None:
    _validate_amount(amount)
    if not reason or not idempotency_key:
        raise ValueError("reason and idempotency_key are required")


def _credits_change(
    *, user_id, delta: int, reason: str, idempotency_key: str, source: str, outbox: Outbox
) -> CreditResult:
    """Apply `delta` with its ledger row; call inside a transaction. Idempotent per (user, key)."""
    prior = CreditEntry.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
    if prior is not None:
        return _credit_result(prior, created=False)
    try:
        # Savepoint: a concurrent call with the same key that commits first makes our insert
        # fail; we undo our counter update and answer with its row instead.
        with transaction.atomic():
            users = User.objects.filter(pk=user_id)
            if delta < 0:
                users = users.filter(credits__gte=-delta)  # the atomic never-overdraw guard
            if users.update(credits=F("credits") + delta) != 1:
                raise InsufficientCredits(f"balance does not cover {-delta} credits")
            balance = User.objects.values_list("credits", flat=True).get(pk=user_id)
            entry = CreditEntry.objects.create(
                user_id=user_id,
                delta=delta,
                balance_after=balance,
                reason=reason,
                source=source,
                idempotency_key=idempotency_key,
            )
    except (IntegrityError, InsufficientCredits):
        # The twin with our key may have committed while we waited for the user's row lock.
        prior = CreditEntry.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
        if prior is not None:
            return _credit_result(prior, created=False)
        raise
    outbox.add(user_id, CreditsChanged(balance=balance, delta=delta, reason=reason))
    return _credit_result(entry, created=True)


def credits_spend(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Take `amount` credits, never overdrawing (raises InsufficientCredits); idempotent per key."""
    _validate_credit_args(amount, reason, idempotency_key)
    outbox = Outbox()
    with transaction.atomic():
        result = _credits_change(
            user_id=user_id, delta=-amount, reason=reason, idempotency_key=idempotency_key, source=source, outbox=outbox
        )
        outbox.send_on_commit()
    return result


def credits_grant(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Give `amount` credits (refunds, rewards); idempotent per key."""
    _validate_credit_args(amount, reason, idempotency_key)
    outbox = Outbox()
    with transaction.atomic():
        result = _credits_change(
            user_id=user_id, delta=amount, reason=reason, idempotency_key=idempotency_key, source=source, outbox=outbox
        )
        outbox.send_on_commit()
    return result


def credits_spend_locked(
    *, user_id, amount: int, balance: int, reason: str, idempotency_key: str, source: str = ""
) -> CreditResult:
    """credits_spend on the hot path: one guarded update and one ledger insert, no savepoints.

    Preconditions: the caller's open transaction read `balance` with `select_for_update` on the
    user row (so it cannot change before commit), and `idempotency_key` is new (e.g. made from a
    row the same transaction just inserted). Raises InsufficientCredits.
    """
    _validate_credit_args(amount, reason, idempotency_key)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credits_spend_locked needs the caller's transaction holding the user row lock")
    # The guard still holds if the precondition was not met: never overdraw.
    if (
        amount > balance
        or User.objects.filter(pk=user_id, credits__gte=amount).update(credits=F("credits") - amount) != 1
    ):
        raise InsufficientCredits(f"balance does not cover {amount} credits")
    entry = CreditEntry.objects.create(
        user_id=user_id,
        delta=-amount,
        balance_after=balance - amount,
        reason=reason,
        source=source,
        idempotency_key=idempotency_key,
    )
    outbox = Outbox()
    outbox.add(user_id, CreditsChanged(balance=entry.balance_after, delta=entry.delta, reason=reason))
    outbox.send_on_commit()
    return _credit_result(entry, created=True)


# --- progress: one locked turn per service call -------------------------------------------------


class _Turn:
    """One user's progress write: the locked stats row, the user's counters and the outbox."""

    def __init__(self, user_id, *, moment: datetime | None = None) -> None:
        self.stats = _stats_locked(user_id)
        self.user = self.stats.user
        self._stats_before = progress_sql.stats_values(self.stats)
        self.moment = moment or timezone.now()
        self.today = local_date(self.moment, self.user.timezone)
        self.outbox = Outbox()
        self.xp_event_ids: list[int] = []
        self.changed_stats: set[str] = set()
        self._unlocked: set[str] | None = None

    @property
    def user_id(self):
        return self.user.pk

    def bump(self, stat: str, by: int = 1) -> None:
        setattr(self.stats, stat, getattr(self.stats, stat) + by)
        self.changed_stats.add(stat)

    def unlocked(self) -> set[str]:
        if self._unlocked is None:
            self._unlocked = set(BadgeUnlock.objects.filter(user_id=self.user_id).values_list("badge", flat=True))
        return self._unlocked

    def finish(self) -> None:
        """Evaluate badges on the stats that changed, save the stats, schedule the after-commit work."""
        _badges_evaluate(self)
        progress_sql.stats_save(self.stats, self._stats_before)
        if self.xp_event_ids:
            self._schedule_leaderboards()
        self.outbox.send_on_commit()

    def _schedule_leaderboards(self) -> None:
        now, stats = timezone.now(), self.stats
        last_id = stats.last_xp_event_id
        scores = {"all-time": (self.user.experience_points, last_id)}
        if stats.week_xp:
            scores["weekly"] = (stats.week_xp, last_id)
        if stats.month_xp:
            scores["monthly"] = (stats.month_xp, last_id)
        user_id, username = self.user_id, self.user.username
        # best_weekly_rank <= 10 means the weekly badge is already unlocked.
        check_weekly = "weekly" in scores and (stats.best_weekly_rank or WEEKLY_BADGE_RANK + 1) > WEEKLY_BADGE_RANK

        weekly_rank: dict[str, int] = {}

        def write() -> None:
            # One Redis round trip writes the scores and, when the badge is still to win, reads the
            # weekly rank (Redis only: the SQL rank is for reads, the rebuild catches up).
            rank_on = "weekly" if check_weekly else None
            weekly_rank.update(
                leaderboards.leaderboard_write(
                    user_id=user_id, username=username, scores=scores, moment=now, rank_on=rank_on
                )
            )

        def weekly_badge_check() -> None:
            rank = weekly_rank.get("weekly")
            if rank is not None and rank <= WEEKLY_BADGE_RANK:
                weekly_rank_record(user_id=user_id, rank=rank)

        self.outbox.then(write)
        if check_weekly:
            self.outbox.then_later(weekly_badge_check)
        self.outbox.leaderboards_changed(sorted(scores))


def _stats_locked(user_id) -> PlayerStats:
    """The player's stats with their user, both rows locked (the user's first), in one query."""
    locked = progress_sql.player_locked(user_id)
    if locked is None:  # no stats row yet (or no such user: DoesNotExist)
        User.objects.filter(pk=user_id).get()
        PlayerStats.objects.get_or_create(user_id=user_id)
        locked = progress_sql.player_locked(user_id)
    user, stats = locked
    stats.user = user
    return stats


def _period_xp_add(stats: PlayerStats, amount: int, moment: datetime) -> None:
    """Keep the current week's and month's XP on the stats row (a new period starts from zero)."""
    week_start = leaderboards.period_bounds("weekly", moment)[0].date()
    month_start = leaderboards.period_bounds("monthly", moment)[0].date()
    if stats.week_start != week_start:
        stats.week_start, stats.week_xp = week_start, 0
    if stats.month_start != month_start:
        stats.month_start, stats.month_xp = month_start, 0
    stats.week_xp += amount
    stats.month_xp += amount


def _xp_add(turn: _Turn, *, amount: int, reason: str, idempotency_key: str, source: str = "") -> XPResult:
    """Award XP inside a turn: ledger row + F() update, daily cap, level-ups with their credits."""
    user = turn.user
    rule = XP_RULES.get(reason)
    if rule is not None and rule.daily_cap is not None:
        # A used key answers with its first award even once the cap is reached.
        if (prior := _xp_prior(user, idempotency_key)) is not None:
            return prior
        today_count = XPEvent.objects.filter(user_id=user.pk, reason=reason, local_date=turn.today).count()
        if today_count >= rule.daily_cap:
            return XPResult(None, 0, user.experience_points, user.level, created=False)
    total = user.experience_points + amount
    old_level, new_level = user.level, max(level_for_xp(total), user.level)
    rank = rank_for_level(new_level)
    now = timezone.now()
    # The ledger row first: its unique key decides whether this award is new (the user row lock
    # held by the turn means no other award of this user is in flight).
    event_id = progress_sql.xp_add(
        user_id=user.pk,
        amount=amount,
        total_after=total,
        level=new_level,
        rank=rank,
        reason=reason,
        source=source,
        idempotency_key=idempotency_key,
        local_date=turn.today,
        created_at=now,
    )
    if event_id is None:
        if (prior := _xp_prior(user, idempotency_key)) is None:
            raise IntegrityError(f"XP event {idempotency_key!r} conflicts with no visible row")
        return prior
    user.experience_points, user.level, user.user_rank = total, new_level, rank
    turn.stats.last_xp_event_id = event_id
    _period_xp_add(turn.stats, amount, now)
    turn.xp_event_ids.append(event_id)
    turn.outbox.add(user.pk, XPAwarded(amount=amount, reason=reason, total_xp=total, level=new_level))
    for level in range(old_level + 1, new_level + 1):
        _credits_change(
            user_id=user.pk,
            delta=level_up_credits(level),
            reason="level.up",
            idempotency_key=f"level:{level}",
            source=f"level:{level}",
            outbox=turn.outbox,
        )
    if new_level > old_level:
        turn.outbox.add(user.pk, LevelUp(level=new_level, rank=rank))
    return XPResult(event_id, amount, total, new_level, created=True)


def _xp_prior(user, idempotency_key: str) -> XPResult | None:
    """The result of the award that already used `idempotency_key`, if one did."""
    prior = XPEvent.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).first()
    if prior is None:
        return None
    return XPResult(prior.pk, prior.amount, user.experience_points, user.level, created=False)


def _badge_unlock(turn: _Turn, badge: Badge) -> bool:
    try:
        with transaction.atomic():  # unique (user, badge): unlocked exactly once
            BadgeUnlock.objects.create(user_id=turn.user_id, badge=badge.slug)
    except IntegrityError:
        return False
    turn.unlocked().add(badge.slug)
    info = BadgeInfo(slug=badge.slug, name=badge.name, description=badge.description, tier=badge.tier)
    turn.outbox.add(turn.user_id, BadgeUnlocked(badge=info))
    if badge.xp:
        _xp_add(
            turn, amount=badge.xp, reason="badge.unlocked", idempotency_key=f"badge:{badge.slug}", source=badge.slug
        )
    if badge.credits:
        _credits_change(
            user_id=turn.user_id,
            delta=badge.credits,
            reason="badge.unlocked",
            idempotency_key=f"badge:{badge.slug}",
            source=badge.slug,
            outbox=turn.outbox,
        )
    return True


def _badges_evaluate(turn: _Turn) -> None:
    for badge in badges_watching(turn.changed_stats):
        if badge.slug not in turn.unlocked() and badge.reached(getattr(turn.stats, badge.stat)):
            _badge_unlock(turn, badge)


def _streak_touch(turn: _Turn) -> None:
    stats = turn.stats
    before = StreakState(stats.streak_days, stats.streak_best, stats.streak_last_date, stats.streak_freezes)
    after = streak_advance(before, turn.today)
    if after == before:
        return
    stats.streak_days, stats.streak_best = after.days, after.best
    stats.streak_last_date, stats.streak_freezes = after.last_date, after.freezes
    turn.changed_stats.add("streak_best")
    turn.outbox.add(turn.user_id, StreakUpdated(days=after.days))
    if after.days in STREAK_MILESTONES:
        xp, credits = STREAK_MILESTONES[after.days]
        key = f"streak:{after.days}:{turn.today.isoformat()}"
        _xp_add(turn, amount=xp, reason="streak.milestone", idempotency_key=key, source=f"streak:{after.days}")
        _credits_change(
            user_id=turn.user_id,
            delta=credits,
            reason="streak.milestone",
            idempotency_key=key,
            source=f"streak:{after.days}",
            outbox=turn.outbox,
        )


def _rule_xp(turn: _Turn, activity_name: str, *, data: dict, idempotency_key: str, source: str) -> None:
    _xp_add(
        turn,
        amount=XP_RULES[activity_name].xp,
        reason=activity_name,
        idempotency_key=xp_key(activity_name, data, idempotency_key),
        source=source,
    )


def _apply_activity(turn: _Turn, activity: Activity) -> None:
    """The rules table in action: counters, XP, streak for one new activity."""
    name, data, key = activity.activity, activity.data, activity.idempotency_key
    source = str(data.get("template_id") or data.get("run_id") or "")
    by_self = data.get("actor_id") is not None and str(data["actor_id"]) == str(turn.user_id)
    if name == "run.completed":
        turn.bump("runs_completed")
        provider = str(data.get("provider") or "")[:32]
        if provider and ProviderUse.objects.get_or_create(user_id=turn.user_id, provider=provider)[1]:
            turn.bump("providers_used")
        first_today = not Activity.objects.filter(
            user_id=turn.user_id, activity=name, local_date=turn.today, id__lt=activity.pk
        ).exists()
        if first_today:
            _xp_add(
                turn,
                amount=XP_RULES["run.first_of_day"].xp,
                reason="run.first_of_day",
                idempotency_key=f"xp:first-run:{turn.today.isoformat()}",
                source=source,
            )
        _rule_xp(turn, name, data=data, idempotency_key=key, source=source)
    elif name == "template.created":
        turn.bump("templates_created")
        _rule_xp(turn, name, data=data, idempotency_key=key, source=source)
    elif name == "template.published":
        turn.bump("templates_published")
        _rule_xp(turn, name, data=data, idempotency_key=key, source=source)
    elif name == "rating.given":
        turn.bump("ratings_given")
        _rule_xp(turn, name, data=data, idempotency_key=key, source=source)
    elif by_self:
        pass  # acting on your own template earns nothing
    elif name == "template.forked":
        turn.bump("forks_received")
        _rule_xp(turn, name, data=data, idempotency_key=key, source=source)
    elif name == "favorite.received":
        turn.bump("favorites_received")
        _rule_xp(turn, name, data=data, idempotency_key=key, source=source)
    elif name == "template.rated" and _int(data.get("score")) >= RATED_XP_MIN_SCORE:
        _rule_xp(turn, name, data=data, idempotency_key=key, source=source)
    if name in STREAK_ACTIVITIES:
        _streak_touch(turn)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- public progress services --------------------------------------------------------------------


def player_onboard(*, user) -> None:
    """New user (inside the registration transaction): welcome credits and starting progress."""
    outbox = Outbox()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(level=1, experience_points=0, user_rank=DEFAULT_RANK)
        PlayerStats.objects.get_or_create(user_id=user.pk)
        result = _credits_change(
            user_id=user.pk,
            delta=settings.WELCOME_CREDITS,
            reason="welcome",
            idempotency_key="welcome",
            source="",
            outbox=outbox,
        )
        outbox.send_on_commit()
    # Keep the caller's instance in step with the row (registration answers with it).
    user.credits, user.level, user.experience_points, user.user_rank = result.balance, 1, 0, DEFAULT_RANK


def activity_record(
    *,
    user_id,
    activity: str,
    idempotency_key: str,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """A fact from a higher layer credited to `user_id` (e.g. "run.completed"); awards what the rules say.

    Idempotent per (user, key). `occurred_at` (default now) picks the user's local day for
    streaks and daily caps.
    """
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")
    if not idempotency_key:
        raise ValueError("idempotency_key is required")
    with transaction.atomic():
        turn = _Turn(user_id, moment=occurred_at)
        if Activity.objects.filter(user_id=user_id, idempotency_key=idempotency_key).exists():
            return
        record = Activity.objects.create(
            user_id=user_id,
            activity=activity,
            idempotency_key=idempotency_key,
            data=dict(data or {}),
            local_date=turn.today,
        )
        _apply_activity(turn, record)
        turn.finish()


def xp_award(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> XPResult:
    """Award XP directly (a ledger row + F() update); idempotent per key, subject to the reason's daily cap."""
    _validate_amount(amount)
    if not reason or not idempotency_key:
        raise ValueError("reason and idempotency_key are required")
    with transaction.atomic():
        turn = _Turn(user_id)
        result = _xp_add(turn, amount=amount, reason=reason, idempotency_key=idempotency_key, source=source)
        turn.finish()
    return result


def weekly_rank_record(*, user_id, rank: int) -> None:
    """The user reached `rank` on the current weekly board: keeps the best and unlocks its badge."""
    with transaction.atomic():
        turn = _Turn(user_id)
        if turn.stats.best_weekly_rank is None or rank < turn.stats.best_weekly_rank:
            turn.stats.best_weekly_rank = rank
            turn.changed_stats.add("best_weekly_rank")
        turn.finish()


def weekly_top_badges_award(*, moment: datetime | None = None) -> int:
    """Give the weekly top-10 badge to everyone on the current weekly top 10 (after a rebuild)."""
    badge = BADGES_BY_SLUG[WEEKLY_BADGE]
    top = leaderboards.leaderboard_top(board="weekly", limit=badge.target, moment=moment)
    have = set(
        BadgeUnlock.objects.filter(badge=WEEKLY_BADGE, user_id__in=[r.user_id for r in top]).values_list(
            "user_id", flat=True
        )
    )
    fresh = [r for r in top if r.user_id not in {str(u) for u in have}]
    for ranked in fresh:
        weekly_rank_record(user_id=ranked.user_id, rank=ranked.rank)
    return len(fresh)


def leaderboards_rebuild() -> dict[str, int]:
    """Rebuild every board from the ledger, then award weekly top-10 badges it reveals."""
    counts = leaderboards.leaderboard_rebuild()
    weekly_top_badges_award()
    return counts


__all__ = [
    "CreditResult",
    "InsufficientCredits",
    "XPResult",
    "activity_record",
    "credits_grant",
    "credits_spend",
    "leaderboards_rebuild",
    "player_onboard",
    "weekly_rank_record",
    "xp_award",
]
