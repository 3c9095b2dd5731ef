"""Attempts of an account whose email is not verified: free on the embedded models within the day's
free runs (one per case run), refused (`email_unverified`) on any other model, writing nothing."""

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from challenges.models import Attempt
from game.models import CreditEntry
from llm.models import LLMRun, RunBatch
from tests.challenges.support import ATTEMPT_END, PROMPT, attempt_start_frame, make_challenge, receive_until
from tests.llm.runs_support import LOCAL_TEST_MODEL, playground, response_json, serving_local_test_model

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local_provider(provider):
    """The conftest's answering provider serving the embedded twin of the test model too."""
    with serving_local_test_model(provider):
        yield provider


@pytest.fixture
def una(make_user):
    return make_user("una", email_verified=False)


@pytest.fixture
def una_client(una) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(una).access_token}")
    return client


def local_challenge():
    return make_challenge(None, builtin=True, models=[LOCAL_TEST_MODEL], default_model=LOCAL_TEST_MODEL)


def attempt(client, slug: str):
    return client.post(f"/api/v1/challenges/{slug}/attempts/", {"prompt": PROMPT}, format="json")


def written(user) -> tuple[int, int, int, int]:
    """(attempts, runs, open batches, ledger rows of attempts and runs) of the user."""
    ledger = CreditEntry.objects.filter(user=user, reason__regex=r"^(attempt|run)\.").count()
    batches = RunBatch.objects.filter(user=user).count()
    return Attempt.objects.filter(user=user).count(), LLMRun.objects.filter(user=user).count(), batches, ledger


def test_an_attempt_on_another_provider_is_a_403_writing_nothing(una_client, una, local_provider):
    challenge = make_challenge(None, builtin=True)  # on the paid test model

    response = attempt(una_client, challenge.slug)

    assert response.status_code == 403
    assert response.json()["code"] == "email_unverified"
    assert local_provider.requests == []
    assert written(una) == (0, 0, 0, 0)


def test_an_attempt_on_the_embedded_model_is_graded_and_free(una_client, una, local_provider):
    challenge = local_challenge()

    response = attempt(una_client, challenge.slug)

    assert response.status_code == 201
    body = response_json(response)
    assert (body["status"], body["passed"], body["cost_credits"]) == ("completed", True, 0)
    runs = list(LLMRun.objects.filter(user=una).values_list("free", "reserved_credits", "cost_credits"))
    assert runs == [(True, 0, 0)] * 3
    assert Attempt.objects.get().reserved_credits == 0
    assert written(una) == (1, 3, 0, 0)


def test_an_attempt_needing_more_free_runs_than_are_left_is_refused(una_client, una, local_provider, settings):
    settings.UNVERIFIED_FREE_RUNS_PER_DAY = 4
    challenge = local_challenge()
    assert response_json(attempt(una_client, challenge.slug))["status"] == "completed"  # 3 of the 4

    refused = attempt(una_client, challenge.slug)

    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "This needs 3 free runs and 1 of today's 4 are left. "
        "Verify your email address to spend your credits on more.",
        "code": "email_unverified",
    }
    assert len(local_provider.requests) == 3
    assert written(una) == (1, 3, 0, 0)


def test_a_verified_learner_pays_for_an_attempt_on_the_embedded_model(auth_client, user, local_provider):
    challenge = local_challenge()

    body = response_json(attempt(auth_client, challenge.slug))

    assert body["status"] == "completed" and body["cost_credits"] > 0
    assert not LLMRun.objects.filter(user=user, free=True).exists()


async def test_the_playground_answers_an_error_frame_and_starts_nothing(una, local_provider):
    challenge = await database_sync_to_async(make_challenge)(None, builtin=True)
    ws = await playground(una)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert [(f["type"], f["code"], f["request_id"]) for f in frames] == [("error", "email_unverified", "a1")]
    assert local_provider.requests == []
    assert await database_sync_to_async(written)(una) == (0, 0, 0, 0)
