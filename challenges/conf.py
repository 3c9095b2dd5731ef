"""Challenge knobs, read from settings at call time (tests override them)."""

from django.conf import settings

from llm import conf as llm_conf
from llm.registry import parse_model_id


def judge_model() -> str:
    """The model that judges llm-rubric checks; empty: such checks are refused."""
    return settings.CHALLENGES_JUDGE_MODEL


def attempt_parallel(model_id: str) -> int:
    """Case runs of one attempt at a time: the setting, within the user's run limit and the local model's slots."""
    parallel = min(settings.CHALLENGES_ATTEMPT_PARALLEL, llm_conf.max_concurrent_runs())
    if parse_model_id(model_id)[0] == "local":
        # More would only wait in the local model's queue while counting as running runs.
        parallel = min(parallel, settings.LLM_LOCAL_CONCURRENCY)
    return max(1, parallel)


def attempt_max_seconds() -> float:
    """An attempt still running after this long lost its process: it is settled as failed."""
    return float(settings.CHALLENGES_ATTEMPT_MAX_SECONDS)
