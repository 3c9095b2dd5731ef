"""REST runs: POST llm/runs/ runs to completion; history lists only your own runs."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from llm import throttles
from llm.models import LLMRun
from tests.llm.runs_support import TEST_MODEL, response_json, run_ledger, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_post_runs_to_completion_and_returns_the_run(auth_client, provider):
    response = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")

    assert response.status_code == 201
    run = response_json(response)
    assert run["status"] == "completed"
    assert run["output"] == "Hello, world!"
    assert (run["input_tokens"], run["output_tokens"], run["cost_credits"]) == (7, 4, 11)
    assert run["model"] == TEST_MODEL
    assert run["prompt"] == "Say hi"
    assert run["error"] is None
    assert isinstance(run["ttft_ms"], int) and isinstance(run["latency_ms"], int)
    assert run_ledger(run["id"]) == {"run.reserve": -34, "run.refund": 23}


def test_post_refusals_are_400_with_field_messages(auth_client, provider):
    no_prompt = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL}, format="json")
    unknown = auth_client.post("/api/v1/llm/runs/", {"model": "x:y", "prompt": "hi"}, format="json")
    too_many = auth_client.post(
        "/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "hi", "params": {"max_tokens": 65}}, format="json"
    )
    garbage = auth_client.post("/api/v1/llm/runs/", "[1, 2", content_type="application/json")

    assert no_prompt.status_code == 400
    assert no_prompt.json() == {"prompt": ["Give either prompt or template (with variables)."]}
    assert unknown.status_code == 400
    assert unknown.json() == {"model": ["Unknown model 'x:y'."]}
    assert too_many.status_code == 400
    assert too_many.json() == {"params": {"max_tokens": [f"max_tokens is at most 64 for {TEST_MODEL}."]}}
    assert garbage.status_code == 400
    assert provider.requests == []


def test_post_without_enough_credits_is_refused_and_charges_nothing(auth_client, user, provider):
    set_credits(user, 5)

    response = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "insufficient_credits"
    user.refresh_from_db()
    assert user.credits == 5
    assert provider.requests == []


def test_post_is_throttled_by_ai_requests(auth_client, provider, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "1/hour"},
    }
    first = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")
    second = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")

    received = datetime.now(UTC)

    assert first.status_code == 201
    response_json(first)
    assert second.status_code == 429
    # Waiting Retry-After seconds from the answer reaches the next window, not a moment before it.
    window = throttles.ai_requests_window(received)
    assert received + timedelta(seconds=int(second["Retry-After"])) >= window.end


def test_history_lists_only_your_runs_and_others_are_404(auth_client, user, make_user, provider, api_client):
    mallory = make_user("mallory")
    created = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")
    mine = response_json(created)
    theirs = LLMRun.objects.create(user=mallory, model=TEST_MODEL, prompt="secret", status="completed")

    listing = auth_client.get("/api/v1/llm/runs/")
    detail = auth_client.get(f"/api/v1/llm/runs/{mine['id']}/")
    foreign = auth_client.get(f"/api/v1/llm/runs/{theirs.pk}/")
    anonymous = api_client.get("/api/v1/llm/runs/")

    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert [r["id"] for r in listing.json()["results"]] == [mine["id"]]
    assert detail.json()["output"] == "Hello, world!"
    assert foreign.status_code == 404
    assert anonymous.status_code == 401


def test_history_filters_by_status_in_three_queries(auth_client, user, django_assert_num_queries):
    for status in ("completed", "failed", "completed"):
        LLMRun.objects.create(user=user, model=TEST_MODEL, prompt="p", status=status)

    with django_assert_num_queries(3):  # the token's user, the count, the page
        response = auth_client.get("/api/v1/llm/runs/?status=completed")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert {run["status"] for run in response.json()["results"]} == {"completed"}


def test_post_over_the_concurrency_limit_is_429(auth_client, provider, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 0

    response = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")

    assert response.status_code == 429
    assert response.json() == {
        "detail": "At most 0 runs at a time; wait for one to finish.",
        "code": "concurrency_limit",
    }
    assert response["Retry-After"] == "5"
    assert provider.requests == []


def test_refusals_of_an_event_stream_request_are_json(auth_client, provider):
    response = auth_client.post(
        "/api/v1/llm/runs/", {"model": "x:y", "prompt": "hi"}, format="json", HTTP_ACCEPT="text/event-stream"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"model": ["Unknown model 'x:y'."]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
run_bodies = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from([TEST_MODEL, "x:y", ""]) | json_values,
        "prompt": st.text(max_size=30) | json_values,
        "template": st.text(max_size=40) | json_values,
        "variables": json_values,
        "params": st.fixed_dictionaries(
            {},
            optional={"temperature": json_values, "max_tokens": json_values, "system": json_values},
        )
        | json_values,
    },
)


@pytest.fixture
def unthrottled_rich_user(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "100000/hour"},
    }
    set_credits(user, 1_000_000)
    return user


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=run_bodies)
def test_no_request_body_gets_a_500(auth_client, unthrottled_rich_user, provider, payload):
    response = auth_client.post("/api/v1/llm/runs/", payload, format="json")

    assert response.status_code in {201, 400}
    if response.status_code == 201:
        assert response_json(response)["status"] == "completed"
