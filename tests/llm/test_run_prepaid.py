"""Runs paid from a caller's reservation (prepaid) and runs kept out of the history (sealed)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from game.models import CreditEntry
from llm import selectors, services
from llm.execution import RunExecution
from llm.models import LLMRun
from llm.services import RunOutcome
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, playground, serving_test_model, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def test_model():
    with serving_test_model(ScriptedProvider()):
        yield


def plan(user) -> services.RunPlan:
    return services.run_prepare(user=user, model=TEST_MODEL, prompt="Say hi")


def test_a_prepaid_run_neither_reserves_nor_refunds_but_records_its_cost(user):
    set_credits(user, 0)  # the caller's reservation pays: the balance is not asked

    run = services.run_start(user_id=user.pk, plan=plan(user), prepaid=True)
    settled = services.run_settle(
        run_id=run.pk,
        outcome=RunOutcome(status="completed", output="Hi", produced_tokens=1, input_tokens=7, output_tokens=1),
    )

    assert (run.status, run.prepaid, run.reserved_credits) == ("running", True, 34)
    assert (settled.status, settled.cost_credits) == ("completed", 8)
    assert CreditEntry.objects.filter(idempotency_key__startswith=f"run:{run.pk}").count() == 0
    assert not CreditEntry.objects.filter(user=user, reason__in=["run.reserve", "run.refund"]).exists()


def test_sealed_runs_are_neither_listed_nor_found_nor_running_for_their_user(user):
    sealed = services.run_start(user_id=user.pk, plan=plan(user), prepaid=True, sealed=True)
    shown = services.run_start(user_id=user.pk, plan=plan(user), prepaid=True)

    assert list(selectors.run_list_for(user=user)) == [shown]
    assert selectors.run_get_for(run_id=sealed.pk, user=user) is None
    assert not selectors.run_is_running_for(run_id=sealed.pk, user=user)
    assert selectors.run_is_running_for(run_id=shown.pk, user=user)
    assert LLMRun.objects.get(pk=sealed.pk).sealed


def test_the_window_check_refuses_a_batch_the_hourly_allowance_cannot_hold(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "3/hour"},
    }
    services.run_start(user_id=user.pk, plan=plan(user))

    with transaction.atomic():
        services.run_window_check(user_id=user.pk, runs=2)
    with pytest.raises(services.RunRefused) as refused, transaction.atomic():
        services.run_window_check(user_id=user.pk, runs=3)

    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after > 0


def test_runs_cost_adds_up_the_runs_it_is_given(user):
    runs = [services.run_start(user_id=user.pk, plan=plan(user), prepaid=True) for _ in range(2)]
    for run, tokens in zip(runs, (1, 3), strict=True):
        services.run_settle(
            run_id=run.pk,
            outcome=RunOutcome(
                status="completed", output="x", produced_tokens=tokens, input_tokens=7, output_tokens=tokens
            ),
        )

    assert selectors.runs_cost(run_ids=[run.pk for run in runs]) == 8 + 10
    assert selectors.runs_cost(run_ids=[]) == 0


async def test_a_live_sealed_run_is_unknown_to_its_users_sockets(user):
    provider = ScriptedProvider(gate=asyncio.Event())
    with serving_test_model(provider):
        run_plan = await database_sync_to_async(plan)(user)
        run = await database_sync_to_async(services.run_start)(
            user_id=user.pk, plan=run_plan, prepaid=True, sealed=True
        )
        frames: list[dict] = []

        async def sink(frame, text):
            frames.append(frame)

        execution = RunExecution(run, run_plan.request)
        execution.start(sink)
        ws = await playground(user)
        try:
            await ws.send_json_to({"type": "run.cancel", "run_id": str(run.pk)})
            cancel = await ws.receive_json_from(timeout=5)
            await ws.send_json_to({"type": "run.resume", "run_id": str(run.pk), "after_seq": -1})
            resume = await ws.receive_json_from(timeout=5)
            provider.gate.set()
            settled = await execution.wait()
            assert await ws.receive_nothing(timeout=0.2)
        finally:
            await ws.disconnect()

    assert (cancel["type"], cancel["code"]) == ("error", "unknown_run")
    assert (resume["type"], resume["code"]) == ("error", "unknown_run")
    assert settled.status == "completed"
    assert frames[-1]["type"] == "run.completed"  # its starter's sink got everything
