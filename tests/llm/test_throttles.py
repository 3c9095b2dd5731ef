"""The `ai_requests` throttle: runs per user per window, counted exactly inside the run start."""

from datetime import UTC, datetime

import pytest

from llm import services, throttles
from llm.models import LLMRun
from tests.game.conftest import run_in_threads
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, serving_test_model, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]

# "Say hi": 18 estimated input tokens + max_tokens 16 at one credit per token.
RESERVE = 34


@pytest.fixture(autouse=True)
def test_model():
    with serving_test_model(ScriptedProvider()):
        yield


@pytest.fixture
def rate(settings):
    def set_rate(value: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": value},
        }

    return set_rate


def start(user, **params) -> str:
    """A run start's outcome: the run's status, or the refusal's code."""
    try:
        plan = services.run_prepare(user=user, model=TEST_MODEL, prompt="Say hi", params=params or None)
        return services.run_start(user_id=user.pk, plan=plan).status
    except services.RunRefused as exc:
        return exc.code


def test_the_window_is_fixed_and_says_when_it_reopens(rate):
    rate("5/minute")
    now = datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)

    window = throttles.ai_requests_window(now)

    assert window.limit == 5
    assert (window.start, window.end) == (
        datetime(2026, 11, 26, 12, 34, tzinfo=UTC),
        datetime(2026, 11, 26, 12, 35, tzinfo=UTC),
    )
    assert window.retry_after(now) == 4.0
    assert window.retry_after(datetime(2026, 11, 26, 12, 34, 59, 900_000, tzinfo=UTC)) == 1.0


def test_parallel_starts_past_the_limit_are_refused_exactly(user, rate, settings):
    rate("25/hour")
    settings.LLM_MAX_CONCURRENT_RUNS = 100
    set_credits(user, 100 * RESERVE)

    outcomes = run_in_threads(lambda i: start(user), 40)

    assert sorted(outcomes) == ["rate_limited"] * 15 + ["running"] * 25
    assert LLMRun.objects.filter(user=user).count() == 25
    user.refresh_from_db()
    assert user.credits == 75 * RESERVE  # refused requests reserved nothing


def test_a_refusal_says_when_the_window_reopens(user, rate):
    rate("1/hour")
    set_credits(user, 10 * RESERVE)
    assert start(user) == "running"

    plan = services.run_prepare(user=user, model=TEST_MODEL, prompt="Say hi")
    with pytest.raises(services.RunRefused) as refused:
        services.run_start(user_id=user.pk, plan=plan)

    assert refused.value.code == "rate_limited"
    window = throttles.ai_requests_window(datetime.now(UTC))
    assert 1 <= refused.value.retry_after <= (window.end - window.start).total_seconds()


def test_runs_of_an_earlier_window_and_of_other_users_do_not_count(user, make_user, rate, settings):
    rate("2/hour")
    settings.LLM_MAX_CONCURRENT_RUNS = 100
    set_credits(user, 10 * RESERVE)
    other = make_user("bob")
    set_credits(other, 10 * RESERVE)
    window = throttles.ai_requests_window(datetime.now(UTC))
    assert [start(user), start(user)] == ["running", "running"]
    assert start(user) == "rate_limited"
    assert start(other) == "running"

    LLMRun.objects.filter(user=user).update(created_at=window.start - (window.end - window.start) / 2)

    assert start(user) == "running"


def test_refused_for_credits_counts_but_the_concurrency_limit_does_not(user, rate, settings):
    rate("3/hour")
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    set_credits(user, RESERVE)

    outcomes = [start(user), start(user), start(user)]  # runs, then refused at once: still one running
    LLMRun.objects.filter(status="running").update(status="completed")
    outcomes += [start(user), start(user), start(user)]

    # A run the balance cannot cover is a failed run row (an AI request, counted); a refusal for
    # the concurrency limit writes nothing and is not counted.
    assert outcomes == ["running", "concurrency_limit", "concurrency_limit", "failed", "failed", "rate_limited"]
