"""Badges as data. Each names the PlayerStats counter it watches (`stat`) and the target to reach.

Only badges whose stat an activity changed are evaluated, never a scan of everyone.
`best_weekly_rank` is "lower is better": the badge unlocks when the rank is at most the target.
A counter may go down (`templates_created` counts templates that exist); a badge once unlocked
stays unlocked.
"""

from dataclasses import dataclass
from typing import Literal

Tier = Literal["bronze", "silver", "gold"]


@dataclass(frozen=True)
class Badge:
    slug: str
    name: str
    description: str
    tier: Tier
    stat: str
    target: int
    xp: int
    credits: int

    def progress(self, value: int | None) -> int:
        """Progress towards the target, capped at it."""
        if self.stat == "best_weekly_rank":
            return 1 if value is not None and value <= self.target else 0
        return min(value or 0, self.target)

    @property
    def progress_target(self) -> int:
        return 1 if self.stat == "best_weekly_rank" else self.target

    def reached(self, value: int | None) -> bool:
        return self.progress(value) >= self.progress_target


BADGES: tuple[Badge, ...] = (
    Badge("first-run", "First Run", "Complete your first LLM run.", "bronze", "runs_completed", 1, 10, 5),
    Badge("runs-10", "Warming Up", "Complete 10 runs.", "bronze", "runs_completed", 10, 25, 10),
    Badge("runs-100", "Power User", "Complete 100 runs.", "silver", "runs_completed", 100, 100, 50),
    Badge("runs-1000", "Prompt Machine", "Complete 1,000 runs.", "gold", "runs_completed", 1000, 500, 200),
    Badge("author-1", "First Draft", "Create your first template.", "bronze", "templates_created", 1, 10, 5),
    Badge("author-10", "Prolific Author", "Have 10 templates of your own.", "silver", "templates_created", 10, 50, 25),
    Badge("author-50", "Template Library", "Have 50 templates of your own.", "gold", "templates_created", 50, 250, 100),
    Badge("favorites-10", "Crowd Pleaser", "Get 10 favourites.", "silver", "favorites_received", 10, 50, 25),
    Badge("favorites-100", "Fan Favourite", "Get 100 favourites.", "gold", "favorites_received", 100, 250, 100),
    Badge("critic-10", "Critic", "Rate 10 templates.", "bronze", "ratings_given", 10, 25, 10),
    Badge("polyglot", "Polyglot", "Complete runs with 3 providers.", "silver", "providers_used", 3, 50, 25),
    Badge("streak-3", "On a Roll", "Keep a 3-day streak.", "bronze", "streak_best", 3, 15, 5),
    Badge("streak-7", "Week Warrior", "Keep a 7-day streak.", "silver", "streak_best", 7, 50, 20),
    Badge("streak-30", "Unstoppable", "Keep a 30-day streak.", "gold", "streak_best", 30, 300, 100),
    Badge(
        "forks-5",
        "Trendsetter",
        "Have your templates forked by 5 established players.",
        "silver",
        "forks_received",
        5,
        50,
        25,
    ),
    Badge(
        "weekly-top-10", "Top Ten", "Reach the top 10 of a weekly leaderboard.", "gold", "best_weekly_rank", 10, 100, 50
    ),
    Badge("solver-1", "First Solve", "Pass your first challenge.", "bronze", "challenges_solved", 1, 10, 5),
    Badge("solver-10", "Problem Solver", "Solve 10 challenges.", "silver", "challenges_solved", 10, 50, 25),
    Badge("solver-50", "Grandmaster", "Solve 50 challenges.", "gold", "challenges_solved", 50, 250, 100),
    Badge("track-1", "Track Complete", "Solve every challenge of a track.", "silver", "tracks_completed", 1, 50, 25),
    Badge("perfect-1", "Flawless", "Score 1,000 on a challenge.", "silver", "challenges_perfect", 1, 50, 25),
    Badge(
        "under-par",
        "Under Par",
        "Solve a challenge at or under its token par.",
        "bronze",
        "challenges_under_par",
        1,
        25,
        10,
    ),
)

BADGES_BY_SLUG: dict[str, Badge] = {badge.slug: badge for badge in BADGES}


def badges_watching(stats: set[str]) -> list[Badge]:
    """Badges whose criterion depends on any of the changed `stats`."""
    return [badge for badge in BADGES if badge.stat in stats]
