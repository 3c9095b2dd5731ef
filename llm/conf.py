"""Run limits and streaming knobs, read from settings at call time (tests override them)."""

from django.conf import settings


def max_concurrent_runs() -> int:
    return int(getattr(settings, "LLM_MAX_CONCURRENT_RUNS", 3))


def max_prompt_chars() -> int:
    return int(getattr(settings, "LLM_MAX_PROMPT_CHARS", 16_000))


def resume_grace_seconds() -> float:
    """How long runs of a closed socket keep going, waiting for a `run.resume`."""
    return float(getattr(settings, "LLM_RESUME_GRACE_SECONDS", 15))


def run_max_seconds() -> float:
    """A run still `running` after this long is stale (its process died): not counted, timed out."""
    return float(getattr(settings, "LLM_RUN_MAX_SECONDS", 600))


def token_flush_interval() -> float:
    """Tokens arriving faster than 1/interval per second are coalesced into one frame."""
    return float(getattr(settings, "LLM_TOKEN_FLUSH_INTERVAL", 0.025))


def stream_maxlen() -> int:
    return int(getattr(settings, "LLM_STREAM_MAXLEN", 10_000))


def stream_ttl_seconds() -> int:
    return int(getattr(settings, "LLM_STREAM_TTL_SECONDS", 300))


def ai_requests_rate() -> str:
    return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get("ai_requests") or "50/hour"


def unverified_free_runs_per_day() -> int:
    """Free runs of the embedded models an account with an unverified email gets per UTC day."""
    return int(getattr(settings, "UNVERIFIED_FREE_RUNS_PER_DAY", 20))
