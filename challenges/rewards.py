"""What the game gives for a graded attempt: the one place challenges hands attempts to the game.

The game's `challenge_attempt_record` (XP by difficulty for a first pass, a little for a new
best, skill points and badges) takes the attempt from here. Until the game has it, a graded
attempt earns no XP and `best` is judged from the attempts themselves.
"""

from dataclasses import dataclass

from challenges.models import Attempt, AttemptStatus, Challenge


@dataclass(frozen=True)
class Award:
    xp_awarded: int
    best: bool  # a new personal best score on this challenge
    skill_points: int


def _beats(attempt: Attempt, best: tuple[int, int] | None) -> bool:
    return best is None or (attempt.score, -attempt.prompt_tokens) > (best[0], -best[1])


def attempt_reward(*, attempt: Attempt, challenge: Challenge) -> Award:
    """The award for a completed attempt; call inside its settle transaction (idempotent per attempt)."""
    if not attempt.passed:
        return Award(xp_awarded=0, best=False, skill_points=0)
    earlier = (
        Attempt.objects.filter(
            challenge=challenge, user_id=attempt.user_id, status=AttemptStatus.COMPLETED, passed=True
        )
        .exclude(pk=attempt.pk)
        .order_by("-score", "prompt_tokens")
        .values_list("score", "prompt_tokens")
        .first()
    )
    return Award(xp_awarded=0, best=_beats(attempt, earlier), skill_points=0)
