"""No request body, however malformed, gets a 500 from authoring or attempts; refusals write nothing."""

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from challenges.models import Attempt, Challenge
from tests.challenges.support import BASE_DOCUMENT, PROMPT, make_challenge
from tests.llm.runs_support import TEST_MODEL, response_json, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
checks = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["equals", "regex", "is-json", "word-count", "contains-any", "foo"]) | json_values},
        optional={
            "value": json_values | st.text(max_size=8),
            "schema": json_values,
            "min": json_values,
            "max": json_values,
        },
    )
    | json_values,
    max_size=3,
)
cases = st.lists(
    st.fixed_dictionaries(
        {
            "input": st.dictionaries(
                st.sampled_from(["country", "1x", ""]), json_values | st.text(max_size=8), max_size=2
            )
        },
        optional={"checks": checks, "hidden": json_values, "id": json_values},
    )
    | json_values,
    max_size=3,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        **{key: st.just(value) | json_values for key, value in BASE_DOCUMENT.items() if key != "cases"},
        "cases": cases | json_values,
        "samples": json_values,
        "pass_threshold": json_values,
    },
)
attempts = st.fixed_dictionaries(
    {},
    optional={
        "prompt": st.sampled_from([PROMPT, "{{country}}", "{{nope}}", "{{", ""]) | json_values,
        "model": st.sampled_from([TEST_MODEL, "x:y"]) | json_values,
        "system": json_values,
        "params": st.fixed_dictionaries({}, optional={"temperature": json_values, "max_tokens": json_values})
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


FUZZ = hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(payload=documents)
def test_no_challenge_document_gets_a_500(auth_client, provider, payload):
    before = Challenge.objects.count()

    response = auth_client.post("/api/v1/challenges/", payload, format="json")

    assert response.status_code in {201, 400}
    if response.status_code == 400:
        assert Challenge.objects.count() == before


@FUZZ
@given(payload=attempts)
def test_no_attempt_body_gets_a_500(auth_client, unthrottled_rich_user, provider, payload):
    challenge = Challenge.objects.first() or make_challenge(unthrottled_rich_user)
    before = Attempt.objects.count()

    response = auth_client.post(f"/api/v1/challenges/{challenge.slug}/attempts/", payload, format="json")

    assert response.status_code in {201, 400}
    if response.status_code == 201:
        assert response_json(response)["status"] == "completed"
    else:
        assert Attempt.objects.count() == before
