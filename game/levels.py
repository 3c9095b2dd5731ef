"""The XP curve and rank bands.

Reaching level L takes 50 * L * (L - 1) XP in total: level 2 at 100 XP, 3 at 300, 4 at 600,
5 at 1,000, 10 at 4,500, 20 at 19,000. Each level reached grants 10 x level credits.
"""

from math import isqrt

LEVEL_XP_STEP = 50
LEVEL_UP_CREDITS_PER_LEVEL = 10

# (first level of the band, rank); ranks widen as levels get more expensive.
RANK_BANDS: tuple[tuple[int, str], ...] = (
    (1, "Prompt Novice"),
    (5, "Prompt Apprentice"),
    (10, "Prompt Practitioner"),
    (15, "Prompt Engineer"),
    (20, "Prompt Architect"),
    (30, "Prompt Master"),
    (40, "Prompt Legend"),
)


def xp_for_level(level: int) -> int:
    """Total XP needed to reach `level` (level 1 needs none)."""
    return LEVEL_XP_STEP * level * (level - 1)


def level_for_xp(xp: int) -> int:
    """The highest level whose threshold `xp` has reached."""
    level = (1 + isqrt(1 + 4 * max(xp, 0) // LEVEL_XP_STEP)) // 2
    while xp_for_level(level + 1) <= xp:  # guard against integer-root rounding
        level += 1
    while level > 1 and xp_for_level(level) > xp:
        level -= 1
    return max(level, 1)


def rank_for_level(level: int) -> str:
    rank = RANK_BANDS[0][1]
    for first_level, name in RANK_BANDS:
        if level >= first_level:
            rank = name
    return rank


def level_up_credits(level: int) -> int:
    """Credits granted on reaching `level`."""
    return LEVEL_UP_CREDITS_PER_LEVEL * level
