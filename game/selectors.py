"""Game reads: profile, badges with progress, ledgers, challenge bests."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.avatars import avatar_url
from game.badges import BADGES
from game.leaderboards.boards import challenge_board
from game.leaderboards.ranking import ranked_rows
from game.levels import xp_for_level
from game.models import BadgeUnlock, ChallengeBest, CreditEntry, PlayerStats, XPEvent
from game.streaks import StreakState, streak_current
from game.timeutils import GameDay, game_day_at


def player_stats(user) -> PlayerStats:
    return PlayerStats.objects.filter(user_id=user.pk).first() or PlayerStats(user_id=user.pk)


def badge_list(user) -> list[dict[str, Any]]:
    """Every badge; `unlocked_at` set for the user's own, `progress`/`target` towards each."""
    stats = player_stats(user)
    unlocked = dict(BadgeUnlock.objects.filter(user_id=user.pk).values_list("badge", "unlocked_at"))
    return [
        {
            "slug": badge.slug,
            "name": badge.name,
            "description": badge.description,
            "tier": badge.tier,
            "xp": badge.xp,
            "credits": badge.credits,
            "progress": badge.progress_target if badge.slug in unlocked else badge.progress(getattr(stats, badge.stat)),
            "target": badge.progress_target,
            "unlocked_at": unlocked.get(badge.slug),
        }
        for badge in BADGES
    ]


def player_profile(user) -> dict[str, Any]:
    """XP, level, rank, XP to next level, streak and unlocked badges of `user`."""
    stats = player_stats(user)
    state = StreakState(stats.streak_days, stats.streak_best, stats.streak_last_date, stats.streak_freezes)
    game_day = GameDay(stats.game_day, stats.game_day_began)  # the day the streak is counted on, as awards see it
    level_start, next_level_xp = xp_for_level(user.level), xp_for_level(user.level + 1)
    badges = [badge for badge in badge_list(user) if badge["unlocked_at"] is not None]
    return {
        "experience_points": user.experience_points,
        "level": user.level,
        "user_rank": user.user_rank,
        "credits": user.credits,
        "level_xp": level_start,
        "next_level_xp": next_level_xp,
        "xp_to_next_level": max(next_level_xp - user.experience_points, 0),
        "streak": {
            "days": streak_current(state, game_day_at(game_day, timezone.now(), user.timezone).day),
            "best": stats.streak_best,
            "freezes": stats.streak_freezes,
            "last_active_date": stats.streak_last_date,
        },
        "badges": sorted(badges, key=lambda badge: badge["unlocked_at"]),
    }


def xp_event_list(user) -> QuerySet[XPEvent]:
    return XPEvent.objects.filter(user_id=user.pk).order_by("-id")


def credit_entry_list(user) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(user_id=user.pk).order_by("-id")


def challenge_leaderboard(challenge: str, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Best passing score per user on the challenge (a slug), in the order of its board.

    Entries are `{rank, user: {id, username, avatar_url}, score, prompt_tokens, achieved_at}`; ties
    go to fewer prompt tokens, then to whoever got there first.
    """
    rows = ranked_rows(challenge_board(challenge), timezone.now()).values_list(
        "user_id", "user__username", "user__avatar", "score", "prompt_tokens", "achieved_at"
    )
    return [
        {
            "rank": offset + index,
            "user": {"id": str(user_id), "username": username, "avatar_url": avatar_url(avatar)},
            "score": score,
            "prompt_tokens": tokens,
            "achieved_at": achieved_at,
        }
        for index, (user_id, username, avatar, score, tokens, achieved_at) in enumerate(
            rows[offset : offset + limit], start=1
        )
    ]


def challenge_bests(user_id) -> dict[str, tuple[int, int]]:
    """The user's best (score, prompt_tokens) per solved challenge slug."""
    rows = ChallengeBest.objects.filter(user_id=user_id).values_list("challenge", "score", "prompt_tokens")
    return {slug: (score, tokens) for slug, score, tokens in rows}


def challenge_solvers_counts(challenges: Iterable[str]) -> dict[str, int]:
    """How many players have solved each of these challenges (slugs nobody solved are left out)."""
    rows = ChallengeBest.objects.filter(challenge__in=list(challenges)).values("challenge").annotate(n=Count("id"))
    return {row["challenge"]: row["n"] for row in rows}


def challenge_solvers_count(challenge: str) -> int:
    return ChallengeBest.objects.filter(challenge=challenge).count()
