"""Challenge knobs, read from settings at call time (tests override them)."""

from django.conf import settings


def judge_model() -> str:
    """The model that judges llm-rubric checks; empty: such checks are refused."""
    return settings.CHALLENGES_JUDGE_MODEL


def attempt_parallel() -> int:
    """Case runs of one attempt at a time.

    The attempt holds one of the user's run slots for all of them; a local model's own queue
    still bounds its generations (the rest of an attempt's runs wait there, in order).
    """
    return max(1, int(settings.CHALLENGES_ATTEMPT_PARALLEL))


def attempt_max_seconds() -> float:
    """An attempt still running after this long lost its process: it is settled as failed."""
    return float(settings.CHALLENGES_ATTEMPT_MAX_SECONDS)
