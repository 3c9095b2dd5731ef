"""Game services: every write to progress (XP, level, rank), credits, badges and streaks.

Other apps call these; they never write game or counter fields themselves. Each service runs in
one transaction and sends its live events only after commit (`game.broadcast.Outbox`). Every
write locks the user row first, and progress writes the player's stats row next: daily caps,
streaks, badges and balances see one consistent state, idempotency checks cannot race, and the
one lock order everywhere (runs included) rules out deadlocks.
"""

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import DEFAULT_RANK
from game import rules
from game.badges import BADGES_BY_SLUG, Badge, badges_watching
from game.broadcast import Outbox
from game.events import BadgeInfo, BadgeUnlocked, CreditsChanged, LevelUp, StreakUpdated, UserEvent, XPAwarded
from game.leaderboards.boards import BOARDS, challenge_board, challenge_of, challenge_tie, period_bounds
from game.leaderboards.reads import leaderboard_top
from game.leaderboards.rebuild import leaderboard_rebuild
from game.leaderboards.writes import leaderboard_avatar_write, leaderboard_write
from game.levels import level_for_xp, level_up_credits, rank_for_level
from game.models import (
    Activity,
    BadgeUnlock,
    ChallengeBest,
    CreditEntry,
    Forker,
    PlayerStats,
    ProviderUse,
    XPEvent,
)
from game.notifications import notification_record
from game.streaks import StreakState, streak_advance
from game.timeutils import GameDay, game_day_at

User = get_user_model()

WEEKLY_BADGE = "weekly-top-10"
WEEKLY_BADGE_RANK = BADGES_BY_SLUG[WEEKLY_BADGE].target


class InsufficientCredits(Exception):
    """The balance does not cover the amount; nothing was written."""


class IdempotencyConflict(Exception):
    """The idempotency key was used for a different request; nothing was written."""


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


@dataclass(frozen=True)
class ChallengeAward:
    xp_awarded: int  # XP of the attempt's own activity: 0 for repeats, failures and capped bests
    best: bool  # a new personal best on the challenge (a first pass is one)
    skill_points: int  # the user's skill total after it


def _validate(amount: int, reason: str, idempotency_key: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer")
    if not reason or not idempotency_key:
        raise ValueError("reason and idempotency_key are required")


def _announce(outbox: Outbox, user_id, event: UserEvent) -> None:
    """A user's event: kept in their notification list (same transaction) and sent live after commit."""
    notification_record(user_id, event)
    outbox.add(user_id, event)


# --- credits -----------------------------------------------------------------------------------


def _credits_change(
    *, user_id, delta: int, reason: str, idempotency_key: str, source: str, outbox: Outbox
) -> CreditResult:
    """Move the balance by `delta` with its ledger row; call inside a transaction. Idempotent per (user, key)."""
    if connection.vendor == "postgresql":
        moved = _credits_move_in_one_statement(
            user_id=user_id, delta=delta, reason=reason, idempotency_key=idempotency_key, source=source
        )
        if moved is not None:
            entry_id, balance = moved
            _announce(outbox, user_id, CreditsChanged(balance=balance, delta=delta, reason=reason))
            return CreditResult(entry_id=entry_id, balance=balance, delta=delta, created=True)
    # Every database, and on PostgreSQL a used key or a balance that does not cover the change.
    # The user row lock serialises this user's credit changes: the key check cannot race, and
    # the balance read here stays the balance until commit.
    balance = User.objects.select_for_update().values_list("credits", flat=True).get(pk=user_id)
    prior = CreditEntry.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
    if prior is not None:
        return CreditResult(entry_id=prior.pk, balance=prior.balance_after, delta=prior.delta, created=False)
    users = User.objects.filter(pk=user_id)
    if delta < 0:
        users = users.filter(credits__gte=-delta)  # never overdraw, whatever the caller read
    if users.update(credits=F("credits") + delta) != 1:
        raise InsufficientCredits(f"balance does not cover {-delta} credits")
    entry = CreditEntry.objects.create(
        user_id=user_id,
        delta=delta,
        balance_after=balance + delta,
        reason=reason,
        source=source,
        idempotency_key=idempotency_key,
    )
    _announce(outbox, user_id, CreditsChanged(balance=entry.balance_after, delta=delta, reason=reason))
    return CreditResult(entry_id=entry.pk, balance=entry.balance_after, delta=delta, created=True)


_CREDITS_MOVE_SQL = """
    WITH entry AS (
        INSERT INTO game_creditentry (user_id, delta, balance_after, reason, source, idempotency_key, created_at)
        SELECT id, %(delta)s, credits + %(delta)s, %(reason)s, %(source)s, %(key)s, %(now)s
        FROM accounts_user WHERE id = %(user_id)s AND credits + %(delta)s >= 0
        FOR UPDATE
        ON CONFLICT (user_id, idempotency_key) DO NOTHING
        RETURNING id, balance_after
    )
    UPDATE accounts_user SET credits = entry.balance_after FROM entry WHERE accounts_user.id = %(user_id)s
    RETURNING entry.id, entry.balance_after
"""


def _credits_move_in_one_statement(
    *, user_id, delta: int, reason: str, idempotency_key: str, source: str
) -> tuple[int, int] | None:
    """PostgreSQL: lock, ledger row and balance in one statement; (entry id, balance), or None if it moved nothing.

    Run starts and settles change credits on the way to a run's first token and after its last.
    Nothing moves when the key is used (ON CONFLICT sees keys committed while the lock waited)
    or the balance does not cover the change; the ORM path then answers with the lock held.
    """
    params = {
        "user_id": user_id,
        "delta": delta,
        "reason": reason,
        "source": source,
        "key": idempotency_key,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_CREDITS_MOVE_SQL, params)
        return cursor.fetchone()


def _credits_apply(*, user_id, delta: int, reason: str, idempotency_key: str, source: str) -> CreditResult:
    outbox = Outbox()
    # A caller's transaction is joined without a savepoint: a refusal (InsufficientCredits) has
    # written nothing, so the caller's transaction stays usable and decides what happens next.
    with nullcontext() if transaction.get_connection().in_atomic_block else transaction.atomic():
        result = _credits_change(
            user_id=user_id, delta=delta, reason=reason, idempotency_key=idempotency_key, source=source, outbox=outbox
        )
        outbox.send_on_commit()
    return result


def credits_spend(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Take `amount` credits, never overdrawing (raises InsufficientCredits); idempotent per key.

    Inside a caller's transaction it joins it, and the event leaves on the caller's commit. Its
    first statement locks the user's row, held (refused or not) until the transaction ends.
    """
    _validate(amount, reason, idempotency_key)
    return _credits_apply(user_id=user_id, delta=-amount, reason=reason, idempotency_key=idempotency_key, source=source)


def credits_grant(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Give `amount` credits (refunds, rewards); idempotent per key; joins a caller's transaction."""
    _validate(amount, reason, idempotency_key)
    return _credits_apply(user_id=user_id, delta=amount, reason=reason, idempotency_key=idempotency_key, source=source)


# --- progress: one locked turn per service call -------------------------------------------------


class _Turn:
    """One user's progress write: the locked user and stats rows, what changed, the outbox."""

    def __init__(self, user_id, *, moment: datetime | None = None) -> None:
        self.stats = _player_locked(user_id)
        self.user = self.stats.user
        self._saved = _stats_values(self.stats)
        self.moment = moment or timezone.now()
        self.today = _game_day_open(self.stats, self.moment, self.user.timezone)
        self.outbox = Outbox()
        self.awarded = False
        self.changed_stats: set[str] = set()
        self.scores: dict[str, tuple[int, int]] = {}  # skill and challenge boards: (score, tie)
        self._unlocked: set[str] | None = None

    @property
    def user_id(self):
        return self.user.pk

    def bump(self, stat: str) -> None:
        setattr(self.stats, stat, getattr(self.stats, stat) + 1)
        self.changed_stats.add(stat)

    def credit(self, delta: int, *, reason: str, key: str, source: str) -> None:
        _credits_change(
            user_id=self.user_id, delta=delta, reason=reason, idempotency_key=key, source=source, outbox=self.outbox
        )

    def unlocked(self) -> set[str]:
        if self._unlocked is None:
            self._unlocked = set(BadgeUnlock.objects.filter(user_id=self.user_id).values_list("badge", flat=True))
        return self._unlocked

    def finish(self) -> None:
        """Evaluate the badges watching what changed, save the stats, schedule the after-commit work."""
        for badge in badges_watching(self.changed_stats):
            if badge.slug not in self.unlocked() and badge.reached(getattr(self.stats, badge.stat)):
                _badge_unlock(self, badge)
        changed = [name for name, value in _stats_values(self.stats).items() if value != self._saved[name]]
        if changed:
            self.stats.save(update_fields=changed)
        if self.awarded or self.scores:
            self._schedule_leaderboards()
        self.outbox.send_on_commit()

    def _schedule_leaderboards(self) -> None:
        stats, user_id, username, now = self.stats, self.user_id, self.user.username, timezone.now()
        scores = dict(self.scores)
        if self.awarded:
            scores["all-time"] = (self.user.experience_points, stats.last_xp_event_id)
        if self.awarded and stats.week_xp:
            scores["weekly"] = (stats.week_xp, stats.last_xp_event_id)
        if self.awarded and stats.month_xp:
            scores["monthly"] = (stats.month_xp, stats.last_xp_event_id)
        # A best weekly rank within the badge's reach means the badge is unlocked already.
        check_weekly = "weekly" in scores and (stats.best_weekly_rank or WEEKLY_BADGE_RANK + 1) > WEEKLY_BADGE_RANK
        weekly_rank: list[int] = []

        def write() -> None:
            rank_on = "weekly" if check_weekly else None
            rank = leaderboard_write(user_id=user_id, username=username, scores=scores, moment=now, rank_on=rank_on)
            if rank is not None:
                weekly_rank.append(rank)

        def weekly_badge_check() -> None:
            if weekly_rank and weekly_rank[0] <= WEEKLY_BADGE_RANK:
                weekly_rank_record(user_id=user_id, rank=weekly_rank[0])

        self.outbox.then(write)
        self.outbox.leaderboards_changed(sorted(scores))
        if check_weekly:
            self.outbox.then_later(weekly_badge_check)


# What a progress write reads: every stats field, and of the user what awards change or show.
_PLAYER_FIELDS = [field.name for field in PlayerStats._meta.concrete_fields] + [
    f"user__{name}" for name in ("username", "timezone", "experience_points", "level", "user_rank")
]


def _player_locked(user_id) -> PlayerStats:
    """The player's stats row with its user, both locked by one query.

    The user row is locked first, as by every credit change and run, so these transactions
    cannot deadlock; a user row lock that waits makes PostgreSQL re-read both rows.
    """
    players = PlayerStats.objects.select_related("user").only(*_PLAYER_FIELDS).select_for_update(of=("user", "self"))
    try:
        return players.get(user_id=user_id)
    except PlayerStats.DoesNotExist:  # no stats row yet (or no such user: User.DoesNotExist)
        User.objects.select_for_update().get(pk=user_id)
        PlayerStats.objects.create(user_id=user_id)
        return players.get(user_id=user_id)


def _game_day_open(stats: PlayerStats, moment: datetime, tz_name: str) -> date:
    """The game's day at `moment` (game.timeutils.game_day_at); a new one starts its day counters from zero.

    A player without a game day yet (new, or from before game days) starts on today's local date
    with the counters of what the ledgers already hold for it.
    """
    current = GameDay(stats.game_day, stats.game_day_began)
    day = game_day_at(current, moment, tz_name)
    if day == current:
        return day.day
    stats.game_day, stats.game_day_began = day.day, day.began
    stats.day_activity_xp = stats.day_templates_created = stats.day_templates_published = 0
    if current.day is None:
        reasons = [rule.reason for rule in rules.XP_RULES.values() if rule.activity]
        today_xp = XPEvent.objects.filter(user_id=stats.user_id, reason__in=reasons, local_date=day.day)
        stats.day_activity_xp = today_xp.aggregate(total=Sum("amount"))["total"] or 0
        for activity, field in rules.NET_DAILY_XP.items():
            made = Activity.objects.filter(user_id=stats.user_id, activity=activity, local_date=day.day).count()
            setattr(stats, field, made)
    return day.day


def _stats_values(stats: PlayerStats) -> dict[str, Any]:
    return {field.attname: getattr(stats, field.attname) for field in PlayerStats._meta.concrete_fields}


def _period_xp_add(stats: PlayerStats, amount: int, moment: datetime) -> None:
    """Keep the current week's and month's XP on the stats row (a new period starts from zero)."""
    week_start = period_bounds("weekly", moment)[0].date()
    month_start = period_bounds("monthly", moment)[0].date()
    if stats.week_start != week_start:
        stats.week_start, stats.week_xp = week_start, 0
    if stats.month_start != month_start:
        stats.month_start, stats.month_xp = month_start, 0
    stats.week_xp += amount
    stats.month_xp += amount


def _xp_add(turn: _Turn, *, amount: int, reason: str, idempotency_key: str, source: str = "") -> XPResult:
    """Award XP inside a turn: ledger row + F() update, daily cap, level-ups with their credits."""
    user = turn.user
    prior = XPEvent.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).values_list("pk", "amount")
    if prior := prior.first():  # a used key answers with its first award, even once the cap is reached
        return XPResult(*prior, user.experience_points, user.level, created=False)
    rule = rules.XP_RULES.get(reason)
    if rule is not None and rule.daily_cap is not None:
        today_count = XPEvent.objects.filter(user_id=user.pk, reason=reason, local_date=turn.today).count()
        if today_count >= rule.daily_cap:
            return XPResult(None, 0, user.experience_points, user.level, created=False)
    if rule is not None and rule.activity:
        # The day's total of activity XP: the remainder up to it, then nothing. The user row lock
        # serialises the player's awards, so concurrent ones never pass it together.
        amount = min(amount, settings.GAME_DAILY_ACTIVITY_XP_CAP - turn.stats.day_activity_xp)
        if amount <= 0:
            return XPResult(None, 0, user.experience_points, user.level, created=False)
        turn.stats.day_activity_xp += amount
    total = user.experience_points + amount
    old_level, new_level = user.level, max(level_for_xp(total), user.level)
    rank = rank_for_level(new_level)
    event = XPEvent.objects.create(
        user_id=user.pk,
        amount=amount,
        total_after=total,
        reason=reason,
        source=source,
        idempotency_key=idempotency_key,
        local_date=turn.today,
    )
    User.objects.filter(pk=user.pk).update(
        experience_points=F("experience_points") + amount, level=new_level, user_rank=rank
    )
    user.experience_points, user.level, user.user_rank = total, new_level, rank
    turn.stats.last_xp_event_id = event.pk
    _period_xp_add(turn.stats, amount, event.created_at)
    turn.awarded = True
    _announce(turn.outbox, user.pk, XPAwarded(amount=amount, reason=reason, total_xp=total, level=new_level))
    for level in range(old_level + 1, new_level + 1):
        turn.credit(level_up_credits(level), reason="level.up", key=f"level:{level}", source=f"level:{level}")
    if new_level > old_level:
        _announce(turn.outbox, user.pk, LevelUp(level=new_level, rank=rank))
    return XPResult(event.pk, amount, total, new_level, created=True)


def _reward(turn: _Turn, *, xp: int, credits: int, reason: str, idempotency_key: str, source: str) -> None:
    """XP and credits of one reward (a badge, a streak milestone), under one key."""
    if xp:
        _xp_add(turn, amount=xp, reason=reason, idempotency_key=idempotency_key, source=source)
    if credits:
        turn.credit(credits, reason=reason, key=idempotency_key, source=source)


def _badge_unlock(turn: _Turn, badge: Badge) -> None:
    # The user row lock makes `turn.unlocked()` current; the unique (user, badge) backs it up.
    BadgeUnlock.objects.create(user_id=turn.user_id, badge=badge.slug)
    turn.unlocked().add(badge.slug)
    info = BadgeInfo(slug=badge.slug, name=badge.name, description=badge.description, tier=badge.tier)
    _announce(turn.outbox, turn.user_id, BadgeUnlocked(badge=info))
    key = f"badge:{badge.slug}"
    _reward(turn, xp=badge.xp, credits=badge.credits, reason="badge.unlocked", idempotency_key=key, source=badge.slug)


def _streak_touch(turn: _Turn) -> None:
    stats = turn.stats
    before = StreakState(stats.streak_days, stats.streak_best, stats.streak_last_date, stats.streak_freezes)
    after = streak_advance(before, turn.today)
    if after == before:
        return
    stats.streak_days, stats.streak_best = after.days, after.best
    stats.streak_last_date, stats.streak_freezes = after.last_date, after.freezes
    turn.changed_stats.add("streak_best")
    _announce(turn.outbox, turn.user_id, StreakUpdated(days=after.days))
    if after.days in rules.STREAK_MILESTONES:
        xp, credits = rules.STREAK_MILESTONES[after.days]
        key = f"streak:{after.days}:{turn.today.isoformat()}"
        source = f"streak:{after.days}"
        _reward(turn, xp=xp, credits=credits, reason="streak.milestone", idempotency_key=key, source=source)


def _authored(turn: _Turn, template_id: str) -> Activity | None:
    """The `template.created` the player reported for `template_id`: forks have none."""
    if not template_id:
        return None
    created = Activity.objects.filter(user_id=turn.user_id, activity="template.created", data__template_id=template_id)
    return created.only("local_date").first()


def _counter_lower(turn: _Turn, field: str) -> None:
    setattr(turn.stats, field, max(getattr(turn.stats, field) - 1, 0))


def _template_forget(turn: _Turn, template_id: str) -> None:
    """A deleted template leaves the counters it was counted in; unlocked badges stay unlocked."""
    created = _authored(turn, template_id)
    if created is None:
        return  # a fork, or unknown: counted nowhere
    published = Activity.objects.filter(
        user_id=turn.user_id, activity="template.published", data__template_id=template_id
    ).only("local_date")
    for name, record in (("template.created", created), ("template.published", published.first())):
        if record is None:
            continue
        _counter_lower(turn, rules.OWN_ACTIVITY_STATS[name])
        if record.local_date == turn.today:
            _counter_lower(turn, rules.NET_DAILY_XP[name])


def _forker_established(turn: _Turn, actor_id: Any) -> bool:
    """A first fork of the player's templates by an established user (rules.ESTABLISHED_FORKER_*), recorded once."""
    try:
        forker_id = uuid.UUID(str(actor_id))
    except ValueError:
        return False
    forker = User.objects.filter(pk=forker_id).values_list("date_joined", "experience_points").first()
    if forker is None:
        return False
    joined, xp = forker
    if xp < rules.ESTABLISHED_FORKER_XP or joined > turn.moment - timedelta(days=rules.ESTABLISHED_FORKER_DAYS):
        return False
    return Forker.objects.get_or_create(user_id=turn.user_id, forker_id=forker_id)[1]


def _net_new(turn: _Turn, name: str) -> bool:
    """Count one more of the day's templates (rules.NET_DAILY_XP); True if it adds to what the day has earned for."""
    field = rules.NET_DAILY_XP[name]
    setattr(turn.stats, field, getattr(turn.stats, field) + 1)
    earned = XPEvent.objects.filter(user_id=turn.user_id, reason=name, local_date=turn.today).count()
    return earned < getattr(turn.stats, field)


def _apply_activity(turn: _Turn, activity: Activity) -> int:
    """The rules table in action: counters, XP, streak for one new activity; returns its own XP."""
    name, data = activity.activity, activity.data
    source = str(data.get("template_id") or data.get("run_id") or data.get("challenge") or "")
    template_id = str(data.get("template_id") or "")
    if name == "template.deleted":
        _template_forget(turn, template_id)
        return 0
    if name in rules.RECEIVED_ACTIVITY_STATS and str(data.get("actor_id")) == str(turn.user_id):
        return 0  # acting on your own template earns nothing
    if name == "template.rated" and _int(data.get("score")) < rules.RATED_XP_MIN_SCORE:
        return 0
    if name == "run.completed" and _int(data.get("output_tokens")) < rules.RUN_MIN_OUTPUT_TOKENS:
        return 0  # too short to be play: no XP, no counter, no streak
    if name == "template.published" and _authored(turn, template_id) is None:
        return 0  # a fork (never reported as created) publishes for nothing
    if stat := rules.OWN_ACTIVITY_STATS.get(name) or rules.RECEIVED_ACTIVITY_STATS.get(name):
        turn.bump(stat)
    if name == "template.forked" and _forker_established(turn, data.get("actor_id")):
        turn.bump("forks_received")
    if name == "run.completed":
        provider = str(data.get("provider") or "")[:32]
        if provider and ProviderUse.objects.get_or_create(user_id=turn.user_id, provider=provider)[1]:
            turn.bump("providers_used")
        # Once per game day by its key (and the rule's cap of 1).
        rule = rules.XP_RULES["run.first_of_day"]
        key = f"xp:first-run:{turn.today.isoformat()}"
        _xp_add(turn, amount=rule.xp, reason=rule.reason, idempotency_key=key, source=source)
    xp = 0
    if name not in rules.NET_DAILY_XP or _net_new(turn, name):
        key = rules.xp_key(name, data, activity.idempotency_key)
        amount = rules.activity_xp(name, data)
        xp = _xp_add(turn, amount=amount, reason=name, idempotency_key=key, source=source).amount
    if name in rules.STREAK_ACTIVITIES:
        _streak_touch(turn)
    return xp


def _challenge_pass(
    turn: _Turn,
    *,
    key: str,
    challenge: str,
    track: str,
    difficulty: str,
    score: int,
    prompt_tokens: int,
    par_tokens: int,
    track_challenges: list[str],
    moment: datetime,
) -> ChallengeAward:
    """A passing attempt: the best row, skill points, counters, and a first pass or new best recorded."""
    stats = turn.stats
    best = ChallengeBest.objects.filter(user_id=turn.user_id, challenge=challenge).first()
    at_par = prompt_tokens <= par_tokens
    if at_par and not (best and best.at_par):
        turn.bump("challenges_under_par")
    if best is not None and (score, -prompt_tokens) <= (best.score, -best.prompt_tokens):
        if at_par and not best.at_par:
            ChallengeBest.objects.filter(pk=best.pk).update(at_par=True)
        return ChallengeAward(xp_awarded=0, best=False, skill_points=stats.skill_points)
    if score == rules.PERFECT_SCORE and (best is None or best.score < score):
        turn.bump("challenges_perfect")
    # A best keeps the weight of its first pass, so skill points only ever rise.
    gain = (score - (best.score if best else 0)) * rules.SKILL_WEIGHTS[best.difficulty if best else difficulty]
    stats.skill_points += gain
    record = Activity.objects.create(
        user_id=turn.user_id,
        activity="challenge.best" if best else "challenge.passed",
        idempotency_key=key,
        data={
            "challenge": challenge,
            "track": track,
            "difficulty": difficulty,
            "score": score,
            "prompt_tokens": prompt_tokens,
            "skill_points": stats.skill_points,
        },
        local_date=turn.today,
    )
    best = best or ChallengeBest(user_id=turn.user_id, challenge=challenge, difficulty=difficulty, passed_at=moment)
    best.score, best.prompt_tokens, best.activity_id, best.achieved_at = score, prompt_tokens, record.pk, moment
    best.at_par = best.at_par or at_par
    best.save()
    if gain:
        stats.last_skill_activity_id = record.pk
        turn.scores["skill"] = (stats.skill_points, record.pk)
    turn.scores[challenge_board(challenge)] = (score, challenge_tie(prompt_tokens, record.pk))
    xp = _apply_activity(turn, record)
    track_set = set(track_challenges)
    if record.activity == "challenge.passed" and challenge in track_set:
        solved = ChallengeBest.objects.filter(user_id=turn.user_id, challenge__in=track_set).count()
        if solved == len(track_set):
            turn.bump("tracks_completed")
    return ChallengeAward(xp_awarded=xp, best=True, skill_points=stats.skill_points)


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

    Idempotent per (user, key). `occurred_at` (default now) picks the game's day for streaks and
    daily caps (game.timeutils.game_day_at: never earlier than the current one).
    """
    if activity not in rules.ACTIVITIES:
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


def challenge_attempt_record(
    *,
    user_id,
    attempt_id: str,
    challenge: str,
    track: str,
    difficulty: str,
    score: int,
    prompt_tokens: int,
    passed: bool,
    par_tokens: int,
    track_challenges: list[str],
    occurred_at: datetime | None = None,
) -> ChallengeAward:
    """A graded attempt at `challenge` (a slug): XP, skill points, badges and boards, as the rules say.

    Only passing attempts count. A best is a higher score, or the same score with fewer prompt
    tokens. Idempotent per attempt_id: a second call answers with the first award.
    """
    if difficulty not in rules.SKILL_WEIGHTS:
        raise ValueError(f"unknown difficulty {difficulty!r}")
    if challenge_of(challenge_board(challenge)) != challenge:
        raise ValueError("challenge must be a slug")
    if not attempt_id or len(attempt_id) > 150 or not 0 <= score <= rules.PERFECT_SCORE or prompt_tokens < 0:
        raise ValueError("attempt_id, score (0..1000) or prompt_tokens out of range")
    key = f"challenge:{attempt_id}"
    moment = occurred_at or timezone.now()
    with transaction.atomic():
        turn = _Turn(user_id, moment=moment)
        prior = Activity.objects.filter(user_id=turn.user_id, idempotency_key=key).values_list("data", flat=True)
        if prior := prior.first():  # only a first pass or a new best leaves an activity
            xp = XPEvent.objects.filter(user_id=turn.user_id, idempotency_key=f"xp:{key}").values_list(
                "amount", flat=True
            )
            return ChallengeAward(xp_awarded=xp.first() or 0, best=True, skill_points=prior["skill_points"])
        if not passed:
            return ChallengeAward(xp_awarded=0, best=False, skill_points=turn.stats.skill_points)
        award = _challenge_pass(
            turn,
            key=key,
            challenge=challenge,
            track=track,
            difficulty=difficulty,
            score=score,
            prompt_tokens=prompt_tokens,
            par_tokens=par_tokens,
            track_challenges=track_challenges,
            moment=moment,
        )
        turn.finish()
    return award


def xp_award(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> XPResult:
    """Award XP directly (a ledger row + F() update); idempotent per key, subject to the reason's daily cap.

    A key already used for another amount or reason raises IdempotencyConflict: the caller is
    told, rather than answered with the first award as if it were this one.
    """
    _validate(amount, reason, idempotency_key)
    with transaction.atomic():
        turn = _Turn(user_id)  # the user row lock makes the key check below final
        prior = XPEvent.objects.filter(user_id=user_id, idempotency_key=idempotency_key)
        used_for = prior.values_list("amount", "reason").first()
        if used_for is not None and not _same_award(used_for, amount=amount, reason=reason):
            raise IdempotencyConflict(f"The key was used for an award of {used_for[0]} XP for {used_for[1]!r}.")
        result = _xp_add(turn, amount=amount, reason=reason, idempotency_key=idempotency_key, source=source)
        turn.finish()
    return result


def _same_award(used_for: tuple[int, str], *, amount: int, reason: str) -> bool:
    """Whether an award already made with the key is this one (the day's total may have cut it short)."""
    prior_amount, prior_reason = used_for
    if prior_reason != reason:
        return False
    rule = rules.XP_RULES.get(reason)
    return prior_amount == amount or (rule is not None and rule.activity and prior_amount < amount)


def weekly_rank_record(*, user_id, rank: int) -> None:
    """The user reached `rank` on the current weekly board: keeps the best and unlocks its badge."""
    with transaction.atomic():
        turn = _Turn(user_id)
        if turn.stats.best_weekly_rank is None or rank < turn.stats.best_weekly_rank:
            turn.stats.best_weekly_rank = rank
            turn.changed_stats.add("best_weekly_rank")
        turn.finish()


def player_avatar_changed(*, user_id, avatar_url: str | None) -> None:
    """The user's avatar changed (settings.ACCOUNTS_ON_AVATAR_CHANGE, after commit): boards show the new one.

    Every board the user may be on is announced; widgets whose entries did not change send nothing.
    """
    slugs = ChallengeBest.objects.filter(user_id=user_id).values_list("challenge", flat=True)
    outbox = Outbox()
    outbox.then(lambda: leaderboard_avatar_write(user_id=user_id, avatar_url=avatar_url))
    outbox.leaderboards_changed([*BOARDS, *sorted(challenge_board(slug) for slug in slugs)])
    outbox.flush()


def leaderboards_rebuild() -> dict[str, int]:
    """Rebuild every board from the ledger, then give the weekly top-10 badge to the weekly top 10 it shows."""
    counts = leaderboard_rebuild()
    top = leaderboard_top(board="weekly", limit=WEEKLY_BADGE_RANK)
    unlocked = BadgeUnlock.objects.filter(badge=WEEKLY_BADGE, user_id__in=[r.user_id for r in top])
    have = {str(user_id) for user_id in unlocked.values_list("user_id", flat=True)}
    for ranked in top:
        if ranked.user_id not in have:
            weekly_rank_record(user_id=ranked.user_id, rank=ranked.rank)
    return counts
