"""Runs of an account whose email is not verified: free runs of the embedded models within a daily
allowance, charging nothing; everything else refused (`email_unverified`) before any provider call."""

import uuid

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from accounts import services as account_services
from game.models import CreditEntry
from llm import services
from llm.models import LLMRun
from tests.game.conftest import run_in_threads
from tests.llm.runs_support import (
    LOCAL_TEST_MODEL,
    TEST_MODEL,
    ScriptedProvider,
    playground,
    receive_until_end,
    response_json,
    serving_local_test_model,
    serving_test_model,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

User = get_user_model()
RUNS = "/api/v1/llm/runs/"
# "Say hi": 18 estimated input tokens + max_tokens 16 at one credit per token.
RESERVE = 34


@pytest.fixture
def provider():
    """One scripted provider serving both the paid test model and its embedded twin."""
    provider = ScriptedProvider()
    with serving_test_model(provider), serving_local_test_model(provider):
        yield provider


@pytest.fixture
def una(make_user):
    return make_user("una", email_verified=False)


@pytest.fixture
def una_client(una):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(una).access_token}")
    return client


def post_run(client, model: str):
    return client.post(RUNS, {"model": model, "prompt": "Say hi"}, format="json")


def written(user) -> tuple[int, int, int]:
    """(runs, ledger rows of runs, what the runs charged) of the user; the game's rewards aside."""
    entries = list(CreditEntry.objects.filter(user=user, reason__startswith="run.").values_list("delta", flat=True))
    return LLMRun.objects.filter(user=user).count(), len(entries), -sum(entries)


def start(user, model: str = LOCAL_TEST_MODEL) -> LLMRun:
    return services.run_start(user_id=user.pk, plan=services.run_prepare(user=user, model=model, prompt="Say hi"))


def test_a_run_on_another_provider_is_a_403_before_any_provider_call(una_client, una, provider):
    response = post_run(una_client, TEST_MODEL)

    assert response.status_code == 403
    assert response.json()["code"] == "email_unverified"
    assert "Verify your email address to run test:echo" in response.json()["detail"]
    assert provider.requests == []
    assert written(una) == (0, 0, 0)


def test_a_free_run_of_an_embedded_model_completes_and_charges_nothing(una_client, una, provider):
    response = post_run(una_client, LOCAL_TEST_MODEL)

    assert response.status_code == 201
    body = response_json(response)
    assert (body["status"], body["output"], body["cost_credits"]) == ("completed", "Hello, world!", 0)
    run = LLMRun.objects.get(pk=body["id"])
    assert (run.free, run.reserved_credits, run.cost_credits) == (True, 0, 0)
    assert written(una) == (1, 0, 0)
    una.refresh_from_db()
    assert una.credits >= 100  # the welcome credits are all there (the game may add rewards)


def test_the_free_runs_of_the_day_run_out_and_the_next_one_writes_nothing(una_client, una, provider, settings):
    settings.UNVERIFIED_FREE_RUNS_PER_DAY = 2
    statuses = [response_json(post_run(una_client, LOCAL_TEST_MODEL))["status"] for _ in range(2)]

    refused = post_run(una_client, LOCAL_TEST_MODEL)

    assert statuses == ["completed", "completed"]
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "This needs 1 free run and 0 of today's 2 are left. "
        "Verify your email address to spend your credits on more.",
        "code": "email_unverified",
    }
    assert len(provider.requests) == 2
    assert written(una) == (2, 0, 0)


def test_runs_of_a_verified_account_are_not_free(auth_client, user, provider, settings):
    settings.UNVERIFIED_FREE_RUNS_PER_DAY = 0

    paid = response_json(post_run(auth_client, TEST_MODEL))
    local = response_json(post_run(auth_client, LOCAL_TEST_MODEL))

    assert (paid["status"], local["status"]) == ("completed", "completed")
    assert paid["cost_credits"] == local["cost_credits"] == 11  # 7 input + 4 output tokens
    assert not LLMRun.objects.filter(user=user, free=True).exists()
    assert written(user) == (2, 4, 22)  # a reservation and a refund each


def test_once_verified_the_account_spends_its_credits(una_client, una, provider, settings):
    settings.UNVERIFIED_FREE_RUNS_PER_DAY = 1
    assert post_run(una_client, TEST_MODEL).status_code == 403

    token = account_services.email_tokens.token_make(user_id=una.pk, email=una.email)
    account_services.email_verify(token=token)
    paid = response_json(post_run(una_client, TEST_MODEL))
    local = response_json(post_run(una_client, LOCAL_TEST_MODEL))

    assert (paid["cost_credits"], local["cost_credits"]) == (11, 11)
    assert written(una) == (2, 4, 22)


def test_an_email_change_stops_the_spending_again(auth_client, user, provider):
    auth_client.patch("/api/v1/auth/me/", {"email": "alice@wonder.land"}, format="json")

    response = post_run(auth_client, TEST_MODEL)

    assert (response.status_code, response.json()["code"]) == (403, "email_unverified")
    assert written(user) == (0, 0, 0)


@pytest.mark.postgresql
def test_two_concurrent_free_runs_at_the_last_free_one_start_exactly_one(una, provider, settings):
    settings.UNVERIFIED_FREE_RUNS_PER_DAY = 3
    settings.LLM_MAX_CONCURRENT_RUNS = 10
    start(una)
    start(una)

    def attempt(_: int) -> str:
        try:
            return start(una).status
        except services.RunRefused as exc:
            return exc.code

    outcomes = run_in_threads(attempt, 2)

    assert sorted(outcomes) == ["email_unverified", "running"]
    assert LLMRun.objects.filter(user=una, free=True).count() == 3
    assert written(una) == (3, 0, 0)


async def test_the_playground_refuses_other_providers_and_runs_the_embedded_model_free(una, provider):
    ws = await playground(una)
    try:
        await ws.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Say hi"})
        refused = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "run.start", "request_id": "r2", "model": LOCAL_TEST_MODEL, "prompt": "Say hi"})
        frames = await receive_until_end(ws)
    finally:
        await ws.disconnect()

    assert refused["type"] == "run.failed"
    assert (refused["run_id"], refused["request_id"], refused["error"]["code"]) == (None, "r1", "email_unverified")
    assert frames[0]["type"] == "run.started" and frames[-1]["type"] == "run.completed"
    assert frames[-1]["cost_credits"] == 0
    assert len(provider.requests) == 1
    assert await database_sync_to_async(written)(una) == (1, 0, 0)


async def test_a_socket_opened_before_the_verification_spends_once_verified(una, provider):
    ws = await playground(una)
    try:
        token = account_services.email_tokens.token_make(user_id=una.pk, email=una.email)
        await database_sync_to_async(account_services.email_verify)(token=token)
        await ws.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Say hi"})
        frames = await receive_until_end(ws)
    finally:
        await ws.disconnect()

    assert frames[-1]["type"] == "run.completed" and frames[-1]["cost_credits"] == 11
    assert await database_sync_to_async(written)(una) == (1, 2, 11)


async def test_a_socket_opened_before_an_email_change_stops_spending(user, provider):
    ws = await playground(user)
    try:
        changed = await database_sync_to_async(User.objects.get)(pk=user.pk)
        await database_sync_to_async(account_services.user_profile_update)(user=changed, email="alice@wonder.land")
        # The socket hears of the change through its user's auth group: it reads its user again.
        for n in range(50):
            await ws.send_json_to({"type": "run.start", "request_id": f"r{n}", "model": TEST_MODEL, "prompt": "Hi"})
            last = (await receive_until_end(ws))[-1]
            if last["type"] == "run.failed":
                break
    finally:
        await ws.disconnect()

    assert (last["run_id"], last["error"]["code"]) == (None, "email_unverified")
    runs, _, charged = await database_sync_to_async(written)(user)
    assert runs == n  # the runs started before the socket heard of it, none after
    assert charged == sum(run.cost_credits for run in await database_sync_to_async(list)(LLMRun.objects.all()))


def test_a_batch_opened_for_an_unverified_account_is_free_and_takes_only_free_runs(user, una, provider):
    paid_id, free_id = uuid.uuid4(), uuid.uuid4()
    plan = services.run_prepare(user=una, model=LOCAL_TEST_MODEL, prompt="Say hi")

    assert (
        services.batch_open(user_id=user.pk, batch_id=paid_id, runs=2, max_seconds=60, model_id=LOCAL_TEST_MODEL)
        is False
    )
    assert (
        services.batch_open(user_id=una.pk, batch_id=free_id, runs=2, max_seconds=60, model_id=LOCAL_TEST_MODEL) is True
    )
    with pytest.raises(services.RunRefused) as paid_with_free:
        services.batch_runs_start(user_id=user.pk, batch_id=paid_id, plans=[(plan.as_free(), False)])
    with pytest.raises(services.RunRefused) as free_with_paid:
        services.batch_runs_start(user_id=una.pk, batch_id=free_id, plans=[(plan, False)])
    [run] = services.batch_runs_start(user_id=una.pk, batch_id=free_id, plans=[(plan.as_free(), False)])

    assert paid_with_free.value.code == free_with_paid.value.code == "batch_closed"
    assert (run.free, run.prepaid, run.reserved_credits) == (True, True, 0)
    with pytest.raises(services.RunRefused) as other_provider:
        services.batch_open(user_id=una.pk, batch_id=uuid.uuid4(), runs=1, max_seconds=60, model_id=TEST_MODEL)
    assert other_provider.value.code == "email_unverified"
