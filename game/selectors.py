"""Game reads: profile, badges with progress, ledgers."""

from typing import Any

from django.db.models import QuerySet

from game.badges import BADGES
from game.levels import xp_for_level
from game.models import BadgeUnlock, CreditEntry, PlayerStats, XPEvent
from game.streaks import StreakState, streak_current
from game.timeutils import local_today


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
            "days": streak_current(state, local_today(user.timezone)),
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
