"""Game tables: the XP and credit ledgers, recorded activities, badge unlocks and per-player stats.

The counters on accounts.User (credits, experience_points, level, user_rank) are caches of these
ledgers; game.services writes both in one transaction and `manage.py game_check` verifies them.

A foreign key that a composite index or unique constraint already leads with has no index of
its own (`db_index=False`): every insert pays for each index it writes (tests/test_schema.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from game.rules import PERFECT_SCORE


class CreditEntry(models.Model):
    """One change of a user's credits; `balance_after` is the balance right after it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_entries", db_index=False
    )
    delta = models.IntegerField()
    balance_after = models.IntegerField()
    reason = models.CharField(max_length=64)
    source = models.CharField(max_length=128, blank=True)
    idempotency_key = models.CharField(max_length=191)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="game_credit_entry_key_unique"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="game_credit_entry_balance_non_negative"),
            models.CheckConstraint(condition=~Q(delta=0), name="game_credit_entry_delta_non_zero"),
        ]
        indexes = [models.Index(fields=["user", "-id"], name="game_credit_user_id_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.delta:+d} ({self.reason})"


class XPEvent(models.Model):
    """One XP award. XP only ever goes up, so every amount is positive."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="xp_events", db_index=False
    )
    amount = models.PositiveIntegerField()
    total_after = models.PositiveIntegerField()
    reason = models.CharField(max_length=64)
    source = models.CharField(max_length=128, blank=True)
    idempotency_key = models.CharField(max_length=191)
    # The day in the user's own timezone: daily caps count per (user, reason, local_date).
    local_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)  # indexed by (created_at, user)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="game_xp_event_key_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="game_xp_event_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["user", "reason", "local_date"], name="game_xp_user_reason_day_idx"),
            models.Index(fields=["created_at", "user"], name="game_xp_created_user_idx"),
            models.Index(fields=["user", "-id"], name="game_xp_user_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} +{self.amount} XP ({self.reason})"


class Activity(models.Model):
    """A fact reported by a higher layer; the unique key makes `activity_record` idempotent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_activities", db_index=False
    )
    activity = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=191)
    data = models.JSONField(default=dict, blank=True)
    local_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="game_activity_key_unique"),
        ]
        indexes = [models.Index(fields=["user", "activity", "local_date"], name="game_activity_user_day_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.activity}"


class PlayerStats(models.Model):
    """The game's own counters per player: badge progress and streak state (no other app's tables)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="game_stats"
    )
    runs_completed = models.PositiveIntegerField(default=0)
    templates_created = models.PositiveIntegerField(default=0)
    templates_published = models.PositiveIntegerField(default=0)
    favorites_received = models.PositiveIntegerField(default=0)
    ratings_given = models.PositiveIntegerField(default=0)
    forks_received = models.PositiveIntegerField(default=0)
    providers_used = models.PositiveIntegerField(default=0)
    best_weekly_rank = models.PositiveIntegerField(null=True, blank=True)
    streak_days = models.PositiveIntegerField(default=0)
    streak_best = models.PositiveIntegerField(default=0)
    streak_last_date = models.DateField(null=True, blank=True)
    streak_freezes = models.PositiveSmallIntegerField(default=0)
    # Id of the user's latest XPEvent: leaderboard ties go to whoever reached the score first.
    last_xp_event_id = models.BigIntegerField(default=0)
    # XP of the current ISO week / calendar month (UTC), kept with each award for the period boards.
    week_start = models.DateField(null=True, blank=True)
    week_xp = models.PositiveIntegerField(default=0)
    month_start = models.DateField(null=True, blank=True)
    month_xp = models.PositiveIntegerField(default=0)
    # Challenges: solved ones, those with a best of 1000, those passed at or under par, tracks
    # completed; skill points (the sum over ChallengeBest) and the id of the Activity that last
    # raised them (skill board ties go to whoever reached the total first).
    challenges_solved = models.PositiveIntegerField(default=0)
    challenges_perfect = models.PositiveIntegerField(default=0)
    challenges_under_par = models.PositiveIntegerField(default=0)
    tracks_completed = models.PositiveIntegerField(default=0)
    skill_points = models.PositiveIntegerField(default=0)
    last_skill_activity_id = models.BigIntegerField(default=0)
    # The game's day (game.timeutils.game_day_at: the local date, never backwards, a later one
    # only GAME_DAY_MIN_HOURS after this one began) and what counts per day on it: activity XP
    # awarded (against GAME_DAILY_ACTIVITY_XP_CAP) and templates created and published that day
    # that still exist (rules.NET_DAILY_XP). All reset when a new game day opens.
    game_day = models.DateField(null=True, blank=True)
    game_day_began = models.DateTimeField(null=True, blank=True)
    day_activity_xp = models.PositiveIntegerField(default=0)
    day_templates_created = models.PositiveIntegerField(default=0)
    day_templates_published = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "player stats"

    def __str__(self) -> str:
        return f"stats of {self.user_id}"


class ChallengeBest(models.Model):
    """A player's best passing attempt at a challenge, which the game knows by slug only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_bests", db_index=False
    )
    challenge = models.CharField(max_length=100)
    # The difficulty at the first pass weights this best in skill points, so they only ever rise.
    difficulty = models.CharField(max_length=16)
    score = models.PositiveIntegerField()
    prompt_tokens = models.PositiveIntegerField()
    # Id of the Activity that set this best: equal scores and tokens go to whoever got there first.
    activity_id = models.BigIntegerField()
    achieved_at = models.DateTimeField()
    passed_at = models.DateTimeField()
    at_par = models.BooleanField(default=False)  # passed at or under par at least once

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "challenge"], name="game_challenge_best_unique"),
            models.CheckConstraint(condition=Q(score__lte=PERFECT_SCORE), name="game_challenge_best_score_range"),
        ]
        indexes = [
            models.Index(fields=["challenge", "-score", "prompt_tokens", "activity_id"], name="game_challenge_rank_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.challenge} {self.score}"


class ProviderUse(models.Model):
    """Providers a player has completed runs with (for the multi-provider badge)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_providers", db_index=False
    )
    provider = models.CharField(max_length=32)
    first_used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="game_provider_use_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.provider}"


class Forker(models.Model):
    """A distinct established user who forked the player's templates (Trendsetter counts them)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_forkers", db_index=False
    )
    forker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    counted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "forker"], name="game_forker_unique")]

    def __str__(self) -> str:
        return f"{self.forker_id} forked {self.user_id}"


class BadgeUnlock(models.Model):
    """A badge (defined as data in game.badges) unlocked by a user, exactly once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badge_unlocks", db_index=False
    )
    badge = models.CharField(max_length=64)
    unlocked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unlocked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "badge"], name="game_badge_unlock_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.badge}"


class Notification(models.Model):
    """One live event kept for the user's notification list (game.notifications decides which, and trims)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=32)  # the event's type: "xp.awarded", "badge.unlocked", ...
    payload = models.JSONField(default=dict)  # the event's fields, as its socket frame carries them
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The unread count and the unread list (read_at IS NULL), newest first.
            models.Index(fields=["user", "read_at", "created_at"], name="game_notif_user_unread_idx"),
            # The whole list newest first, and the trim that keeps the newest N.
            models.Index(fields=["user", "-id"], name="game_notif_user_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"
