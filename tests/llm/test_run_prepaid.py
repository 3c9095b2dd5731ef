"""Run batches (runs paid from a caller's reservation, one run slot for all of them) and runs kept
out of the history (sealed)."""

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from game.models import Activity, CreditEntry
from llm import selectors, services
from llm.execution import RunExecution
from llm.models import LLMRun, RunBatch
from llm.services import RunOutcome
from tests.game.conftest import run_in_threads
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, playground, serving_test_model, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def test_model():
    with serving_test_model(ScriptedProvider()):
        yield


def plan(user) -> services.RunPlan:
    return services.run_prepare(user=user, model=TEST_MODEL, prompt="Say hi")


def open_batch(user, runs: int = 5, *, max_seconds: float = 60) -> uuid.UUID:
    batch_id = uuid.uuid4()
    services.batch_open(user_id=user.pk, batch_id=batch_id, runs=runs, max_seconds=max_seconds, model_id=TEST_MODEL)
    return batch_id


def start(user, batch_id=None, **extra) -> LLMRun:
    return services.run_start(user_id=user.pk, plan=plan(user), batch_id=batch_id, **extra)


def outcome(status: str, tokens: int = 1) -> RunOutcome:
    return RunOutcome(status=status, output="x" * tokens, produced_tokens=tokens, input_tokens=7, output_tokens=tokens)


def with_ai_requests(settings, rate: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": rate},
    }


def test_a_batch_run_neither_reserves_nor_refunds_but_records_its_cost(user):
    set_credits(user, 0)  # the caller's reservation pays: the balance is not asked
    batch_id = open_batch(user)

    run = start(user, batch_id)
    settled = services.run_settle(run_id=run.pk, outcome=outcome("completed"))

    assert (run.status, run.prepaid, run.reserved_credits) == ("running", True, 34)
    assert (settled.status, settled.cost_credits) == ("completed", 8)
    assert CreditEntry.objects.filter(idempotency_key__startswith=f"run:{run.pk}").count() == 0
    assert not CreditEntry.objects.filter(user=user, reason__in=["run.reserve", "run.refund"]).exists()
    assert RunBatch.objects.get(pk=batch_id).started == 1


def test_a_completed_batch_run_earns_no_run_xp_but_a_run_of_ones_own_does(user):
    batch_run = start(user, open_batch(user))
    own_run = start(user)

    for run in (batch_run, own_run):
        services.run_settle(run_id=run.pk, outcome=outcome("completed"))

    keys = Activity.objects.filter(user=user, activity="run.completed").values_list("idempotency_key", flat=True)
    assert list(keys) == [f"run:{own_run.pk}"]


def test_sealed_runs_are_neither_listed_nor_found_nor_running_for_their_user(user):
    batch_id = open_batch(user)
    sealed = start(user, batch_id, sealed=True)
    shown = start(user, batch_id)

    assert list(selectors.run_list_for(user=user)) == [shown]
    assert selectors.run_get_for(run_id=sealed.pk, user=user) is None
    assert not selectors.run_is_running_for(run_id=sealed.pk, user=user)
    assert selectors.run_is_running_for(run_id=shown.pk, user=user)
    assert LLMRun.objects.get(pk=sealed.pk).sealed


def test_an_open_batch_holds_one_run_slot_however_many_of_its_runs_stream(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 2
    set_credits(user, 1000)
    batch_id = open_batch(user, runs=5)
    batch_runs = [start(user, batch_id) for _ in range(5)]  # all streaming at once

    own = start(user)  # the second slot
    with pytest.raises(services.RunRefused) as refused:
        start(user)
    with pytest.raises(services.RunRefused) as batch_refused:
        open_batch(user)

    assert {run.status for run in batch_runs} == {"running"} and own.status == "running"
    assert refused.value.code == batch_refused.value.code == "concurrency_limit"
    services.batch_close(batch_id=batch_id)
    assert start(user).status == "running"  # the batch's slot is free again, its runs still running
    assert LLMRun.objects.filter(user=user, status="running").count() == 7


def test_a_batch_whose_process_died_holds_nothing_past_its_expiry(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    set_credits(user, 1000)
    batch_id = open_batch(user, runs=3)
    with pytest.raises(services.RunRefused):
        start(user)

    RunBatch.objects.filter(pk=batch_id).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))

    assert start(user).status == "running"


def test_batch_runs_start_only_while_it_is_open_and_not_used_up(user, make_user):
    batch_id = open_batch(user, runs=2)
    start(user, batch_id)
    start(user, batch_id)

    with pytest.raises(services.RunRefused) as used_up:
        start(user, batch_id)
    other = open_batch(user, runs=2)
    services.batch_close(batch_id=other)
    services.batch_close(batch_id=other)  # closing twice is harmless
    with pytest.raises(services.RunRefused) as closed:
        start(user, other)
    with pytest.raises(services.RunRefused) as not_theirs:
        start(make_user("mallory"), open_batch(user))

    assert used_up.value.code == closed.value.code == not_theirs.value.code == "batch_closed"
    assert LLMRun.objects.count() == 2


def test_runs_of_a_batch_start_together_or_not_at_all(user):
    batch_id = open_batch(user, runs=3)

    together = services.batch_runs_start(
        user_id=user.pk, batch_id=batch_id, plans=[(plan(user), False), (plan(user), True)]
    )
    with pytest.raises(services.RunRefused) as refused:
        services.batch_runs_start(user_id=user.pk, batch_id=batch_id, plans=[(plan(user), False)] * 2)
    last = services.batch_runs_start(user_id=user.pk, batch_id=batch_id, plans=[(plan(user), False)])

    assert [(run.prepaid, run.sealed, run.status) for run in together] == [
        (True, False, "running"),
        (True, True, "running"),
    ]
    assert refused.value.code == "batch_closed"
    assert LLMRun.objects.count() == 3 and last[0].pk in set(LLMRun.objects.values_list("pk", flat=True))
    assert RunBatch.objects.get(pk=batch_id).started == 3


def test_opening_a_batch_checks_the_window_for_all_its_runs(user, settings):
    with_ai_requests(settings, "3/hour")
    start(user)

    services.batch_open(user_id=user.pk, batch_id=uuid.uuid4(), runs=2, max_seconds=60, model_id=TEST_MODEL)
    with pytest.raises(services.RunRefused) as refused:
        services.batch_open(user_id=user.pk, batch_id=uuid.uuid4(), runs=1, max_seconds=60, model_id=TEST_MODEL)

    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after > 0
    assert RunBatch.objects.count() == 1


def test_a_batchs_runs_not_started_yet_keep_their_room_in_the_window(user, settings):
    with_ai_requests(settings, "4/hour")
    set_credits(user, 1000)
    batch_id = open_batch(user, runs=3)
    start(user)  # the fourth request: the batch holds the other three

    with pytest.raises(services.RunRefused) as refused:
        start(user)
    runs = [start(user, batch_id) for _ in range(3)]  # its room is still there
    services.batch_close(batch_id=batch_id)

    assert refused.value.code == "rate_limited"
    assert [run.status for run in runs] == ["running"] * 3
    with pytest.raises(services.RunRefused):  # the window holds four runs now
        start(user)


def test_closing_a_batch_gives_back_the_room_of_the_runs_it_did_not_start(user, settings):
    with_ai_requests(settings, "4/hour")
    set_credits(user, 1000)
    batch_id = open_batch(user, runs=4)
    start(user, batch_id)

    services.batch_close(batch_id=batch_id)

    assert [start(user).status for _ in range(3)] == ["running"] * 3


@pytest.mark.postgresql
def test_batches_and_runs_opening_together_take_exactly_the_run_slots(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 3
    set_credits(user, 1000)

    def open_or_start(i: int) -> str:
        try:
            if i % 2:
                open_batch(user)
                return "batch"
            return start(user).status
        except services.RunRefused as exc:
            return exc.code

    outcomes = run_in_threads(open_or_start, 12)

    assert outcomes.count("concurrency_limit") == 9
    assert RunBatch.objects.count() + LLMRun.objects.filter(user=user).count() == 3


def test_runs_cost_adds_up_the_runs_it_is_given(user):
    batch_id = open_batch(user)
    runs = [start(user, batch_id) for _ in range(2)]
    for run, tokens in zip(runs, (1, 3), strict=True):
        services.run_settle(run_id=run.pk, outcome=outcome("completed", tokens))

    assert selectors.runs_cost(run_ids=[run.pk for run in runs]) == 8 + 10
    assert selectors.runs_cost(run_ids=[]) == 0


async def test_a_live_sealed_run_is_unknown_to_its_users_sockets(user):
    provider = ScriptedProvider(gate=asyncio.Event())
    with serving_test_model(provider):
        run_plan = await database_sync_to_async(plan)(user)
        batch_id = await database_sync_to_async(open_batch)(user)
        run = await database_sync_to_async(services.run_start)(
            user_id=user.pk, plan=run_plan, batch_id=batch_id, sealed=True
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
