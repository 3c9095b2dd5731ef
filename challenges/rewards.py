"""What the game gives for a graded attempt: the one place challenges hand attempts to the game.

Only attempts at public challenges by someone else count there (`attempt_counts`): an attempt at
a private challenge, or at one the learner wrote, is graded and kept but earns no XP, skill
points, badge or board place, or writing easy challenges would farm them.

The game (`game.services.challenge_attempt_record`) awards XP by difficulty for a first pass and
a little for a new best, keeps the learner's best per challenge, skill points and the boards, and
unlocks the solving badges; it is idempotent per attempt.
"""

from challenges.models import Attempt, Challenge, Visibility
from game import services as game_services

Award = game_services.ChallengeAward


def track_challenges(challenge: Challenge) -> list[str]:
    """The built-in challenges of the challenge's track: solving them all completes the track."""
    return list(
        Challenge.objects.filter(builtin=True, visibility=Visibility.PUBLIC, track=challenge.track).values_list(
            "slug", flat=True
        )
    )


def attempt_counts(*, attempt: Attempt, challenge: Challenge) -> bool:
    """Whether the game hears of this attempt: a public challenge (built in, or another learner's)."""
    return challenge.visibility == Visibility.PUBLIC and challenge.author_id != attempt.user_id


def attempt_reward(*, attempt: Attempt, challenge: Challenge) -> Award:
    """The game's award for a completed attempt; call inside its settle transaction."""
    return game_services.challenge_attempt_record(
        user_id=attempt.user_id,
        attempt_id=str(attempt.pk),
        challenge=challenge.slug,
        track=challenge.track,
        difficulty=challenge.difficulty,
        score=attempt.score,
        prompt_tokens=attempt.prompt_tokens,
        passed=attempt.passed,
        par_tokens=attempt.version.par_tokens,
        track_challenges=track_challenges(challenge),
        occurred_at=attempt.finished_at,
    )
