"""The rules table: what each activity is worth. Documented in README.md ("Game rules").

Activities are facts reported by higher layers through `game.services.activity_record`; the
`challenge.*` ones come with their graded attempt through `challenge_attempt_record`.
`data["actor_id"]`, where given, names who acted on the user's template (forker, rater,
favouriter): nothing is awarded for acting on your own template.

The rules measure play, not loops: XP per day has a total (`GAME_DAILY_ACTIVITY_XP_CAP`), a run
must produce `RUN_MIN_OUTPUT_TOKENS`, template XP goes to the day's net new templates, the game's
day cannot be moved by changing time zones, and Trendsetter counts distinct established forkers.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class XPRule:
    reason: str
    xp: int
    daily_cap: int | None = None  # awards of this reason per game day; None: no cap
    # Counts towards the day's total of activity XP (settings.GAME_DAILY_ACTIVITY_XP_CAP). Rewards
    # that are themselves capped by their nature (badges and streak milestones, once each;
    # challenges, once per first pass or new best) stay outside it.
    activity: bool = True


XP_RULES: dict[str, XPRule] = {
    rule.reason: rule
    for rule in (
        XPRule("run.completed", xp=10, daily_cap=20),
        XPRule("run.first_of_day", xp=25, daily_cap=1),
        XPRule("template.created", xp=20, daily_cap=10),
        XPRule("template.published", xp=50, daily_cap=5),
        XPRule("template.forked", xp=30, daily_cap=20),
        XPRule("template.rated", xp=15, daily_cap=20),
        XPRule("rating.given", xp=2, daily_cap=10),
        XPRule("favorite.received", xp=5, daily_cap=20),
        XPRule("badge.unlocked", xp=0, activity=False),  # amount comes from the badge
        XPRule("streak.milestone", xp=0, activity=False),  # amount comes from STREAK_MILESTONES
        XPRule("challenge.passed", xp=0, activity=False),  # amount comes from CHALLENGE_XP, by difficulty
        # A cap: bests can creep up a token at a time.
        XPRule("challenge.best", xp=0, daily_cap=10, activity=False),
    )
}

# Challenges, by difficulty: XP of a first pass and of a new personal best, and the weight of a
# best score in skill points (skill points = sum of best score x weight over solved challenges).
CHALLENGE_XP: dict[str, dict[str, int]] = {
    "challenge.passed": {"beginner": 20, "intermediate": 50, "advanced": 120, "expert": 300},
    "challenge.best": {"beginner": 5, "intermediate": 10, "advanced": 20, "expert": 40},
}
SKILL_WEIGHTS: dict[str, int] = {"beginner": 1, "intermediate": 2, "advanced": 3, "expert": 4}
PERFECT_SCORE = 1000  # the top of the 0-1000 scale

# A rating of the user's template earns XP from this score up.
RATED_XP_MIN_SCORE = 4

# A completed run with fewer output tokens than this is not play: it earns no XP and counts for no
# badge or streak (a one-token run is the cheapest possible "activity").
RUN_MIN_OUTPUT_TOKENS = 20

# The game's day (daily caps, the first-run bonus, streaks) is the user's local date, but it never
# moves backwards and a later one opens only this many hours after the current one began: changing
# time zones cannot open a second day within a day.
GAME_DAY_MIN_HOURS = 20

# Trendsetter counts distinct forkers who were established when they forked: an account at least
# this many days old with at least this much XP of its own.
ESTABLISHED_FORKER_DAYS = 7
ESTABLISHED_FORKER_XP = 100

# XP of these goes to the day's net new templates: a creation (or publication) earns only while the
# day's earning ones are fewer than the templates created (published) that day that still exist,
# so deleting and recreating pays once. The PlayerStats counter of each, for the current game day.
NET_DAILY_XP: dict[str, str] = {
    "template.created": "day_templates_created",
    "template.published": "day_templates_published",
}

# Streak length reached -> (XP, credits).
STREAK_MILESTONES: dict[int, tuple[int, int]] = {
    3: (30, 5),
    7: (70, 15),
    14: (140, 25),
    30: (300, 50),
    100: (1000, 200),
}

# A freeze is earned per 7 streak days; at most this many are held. Each covers one missed day.
STREAK_FREEZE_EVERY = 7
STREAK_FREEZES_MAX = 2

# Activities the user did themselves, with the PlayerStats counter each counts in (None: counted
# nowhere); they keep the daily streak going.
OWN_ACTIVITY_STATS: dict[str, str | None] = {
    "run.completed": "runs_completed",
    "template.created": "templates_created",
    "template.published": "templates_published",
    "rating.given": "ratings_given",
    "challenge.passed": "challenges_solved",
    "challenge.best": None,
}
# Activities of others on the user's templates, with their counter (None: counted nowhere).
# `forks_received` counts distinct established forkers instead (game.services).
RECEIVED_ACTIVITY_STATS: dict[str, str | None] = {
    "template.forked": None,
    "favorite.received": "favorites_received",
    "template.rated": None,
}
STREAK_ACTIVITIES = frozenset(OWN_ACTIVITY_STATS)
# Facts that only correct counters: a deleted template leaves `templates_created` (and
# `templates_published`); no XP, no streak.
BOOKKEEPING_ACTIVITIES = frozenset({"template.deleted"})
# What `activity_record` takes.
ACTIVITIES = (STREAK_ACTIVITIES | frozenset(RECEIVED_ACTIVITY_STATS) | BOOKKEEPING_ACTIVITIES) - frozenset(CHALLENGE_XP)


def activity_xp(activity: str, data: dict) -> int:
    """XP an activity is worth: its rule's, or by the challenge's difficulty."""
    by_difficulty = CHALLENGE_XP.get(activity)
    return by_difficulty[data["difficulty"]] if by_difficulty else XP_RULES[activity].xp


def xp_key(activity: str, data: dict, idempotency_key: str) -> str:
    """XP idempotency key: once per template/actor pair where farming by repetition is possible.

    `template.created` is keyed by its activity, one per template id; NET_DAILY_XP decides whether
    a recreated copy earns.
    """
    template_id, actor_id = data.get("template_id"), data.get("actor_id")
    if activity == "template.published" and template_id is not None:
        return f"xp:published:{template_id}"
    if activity in {"template.rated", "favorite.received", "template.forked"} and template_id and actor_id:
        return f"xp:{activity}:{template_id}:{actor_id}"
    return f"xp:{idempotency_key}"
