"""The run settle in one PostgreSQL statement (llm.settle_pg) against the ORM path, and the
batched hand-off of completed runs to the worker (llm.completions)."""

import itertools

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection

from game.models import CreditEntry
from llm import completions, services
from llm.models import LLMRun
from tests.game.conftest import run_in_threads
from tests.game.test_consumers import events_socket
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, serving_test_model, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]

User = get_user_model()

# "Say hi": 18 estimated input tokens + max_tokens 16 at one credit per token.
RESERVE = 34
COMPLETED = services.RunOutcome(
    status="completed", output="Hi there", produced_tokens=2, input_tokens=5, output_tokens=2, ttft_ms=3, latency_ms=9
)


@pytest.fixture(autouse=True)
def test_model():
    with serving_test_model(ScriptedProvider()):
        yield


def start(user) -> LLMRun:
    plan = services.run_prepare(user=user, model=TEST_MODEL, prompt="Say hi")
    return services.run_start(user_id=user.pk, plan=plan)


def settle_pipelined(run: LLMRun, outcome: services.RunOutcome) -> LLMRun:
    return services.run_settle(run_id=run.pk, outcome=outcome, run=run)


def settle_orm(run: LLMRun, outcome: services.RunOutcome) -> LLMRun:
    return services.run_settle(run_id=run.pk, outcome=outcome)


def credits_of(user) -> int:
    return User.objects.values_list("credits", flat=True).get(pk=user.pk)


SETTLED_FIELDS = ("status", "output", "input_tokens", "output_tokens", "cost_credits", "ttft_ms", "latency_ms")


@pytest.mark.parametrize(
    "outcome",
    [
        COMPLETED,
        services.RunOutcome(status="cancelled", output="", produced_tokens=0),
        services.RunOutcome(
            status="failed", output="Hi", produced_tokens=1, error_code="provider_error", error_message="broke"
        ),
        services.RunOutcome(status="completed", output="x", produced_tokens=1, input_tokens=500, output_tokens=16),
    ],
    ids=["completed", "cancelled-before-first-token", "failed-midway", "usage-over-the-reservation"],
)
def test_both_paths_write_the_same_run_ledger_and_balance(make_user, outcome):
    rows = []
    for name, settle in (("orm", settle_orm), ("pipelined", settle_pipelined)):
        user = make_user(name)
        run = start(user)
        returned = settle(run, outcome)
        stored = LLMRun.objects.get(pk=run.pk)
        ledger = [
            (
                e.delta,
                e.balance_after,
                e.reason,
                e.idempotency_key.replace(str(run.pk), "R"),
                e.source.replace(str(run.pk), "R"),
            )
            for e in CreditEntry.objects.filter(user=user).order_by("id")
        ]
        assert [getattr(returned, f) for f in SETTLED_FIELDS] == [getattr(stored, f) for f in SETTLED_FIELDS]
        assert stored.finished_at is not None
        assert sum(e[0] for e in ledger) == credits_of(user)
        rows.append(([getattr(stored, f) for f in SETTLED_FIELDS], stored.error_code, ledger, credits_of(user)))
    assert rows[0] == rows[1]


def test_the_runners_copy_of_the_run_is_not_changed(user):
    run = start(user)

    settle_pipelined(run, COMPLETED)

    assert run.status == "running"


def test_a_run_settled_elsewhere_first_is_left_as_it_is(user):
    run = start(user)
    settle_orm(run, services.RunOutcome(status="cancelled", output="H", produced_tokens=1, output_tokens=1))

    returned = settle_pipelined(run, COMPLETED)

    assert (returned.status, returned.output) == ("cancelled", "H")
    refunds = CreditEntry.objects.filter(user=user, reason="run.refund")
    assert refunds.count() == 1
    assert sum(CreditEntry.objects.filter(user=user).values_list("delta", flat=True)) == credits_of(user)


def test_settles_racing_starts_of_the_same_user_keep_the_ledger_exact(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 100
    set_credits(user, 40 * RESERVE)
    runs = [start(user) for _ in range(10)]
    connection.close()

    def work(i: int):
        if i < 10:
            return settle_pipelined(runs[i], COMPLETED).status
        return start(user).status

    results = run_in_threads(work, 20)

    assert results == ["completed"] * 10 + ["running"] * 10
    ledger = list(CreditEntry.objects.filter(user=user).order_by("id").values_list("delta", "balance_after"))
    assert sum(delta for delta, _ in ledger) == credits_of(user)
    # Each row's balance_after is its predecessor's plus its delta: no change was lost or interleaved.
    assert all(prev[1] + row[0] == row[1] for prev, row in itertools.pairwise(ledger))


async def test_the_refund_event_is_sent_after_the_settle(user):
    run = await database_sync_to_async(start)(user)
    before = await database_sync_to_async(credits_of)(user)
    socket = await events_socket(user)
    try:
        await database_sync_to_async(settle_pipelined)(run, COMPLETED)
        received = await socket.receive_json_from(timeout=3)
    finally:
        await socket.disconnect()

    refund = RESERVE - 7  # 5 input + 2 output tokens at one credit each
    assert received == {"type": "credits.changed", "balance": before + refund, "delta": refund, "reason": "run.refund"}


def test_completed_runs_are_handed_to_the_worker_together(monkeypatch, settings):
    from llm import tasks

    sent: list[list[str]] = []
    monkeypatch.setattr(tasks.runs_completed_record, "delay", sent.append)
    monkeypatch.setitem(completions.current_app.conf, "task_always_eager", False)
    queue = completions.CompletedRuns()

    for n in range(5):
        queue.add(f"run-{n}")
    assert queue.wait_idle(5)
    queue.add("run-late")
    assert queue.wait_idle(5)

    assert sent == [[f"run-{n}" for n in range(5)], ["run-late"]]


def test_with_eager_tasks_a_completed_run_is_recorded_before_the_settle_returns(user):
    from game.models import Activity

    run = start(user)

    settle_pipelined(run, COMPLETED)

    assert list(
        Activity.objects.filter(user=user, activity="run.completed").values_list("idempotency_key", flat=True)
    ) == [f"run:{run.pk}"]


def test_the_batch_task_records_every_run_even_if_one_fails(user):
    from game.models import Activity
    from llm.tasks import runs_completed_record

    run = start(user)
    LLMRun.objects.filter(pk=run.pk).update(status="completed")

    with pytest.raises(RuntimeError, match="1 of 2"):
        runs_completed_record.run(["00000000-0000-0000-0000-000000000000", str(run.pk)])

    assert Activity.objects.filter(user=user, activity="run.completed").count() == 1


def test_warm_up_prepares_the_broker_connection_only_when_tasks_go_to_a_worker(monkeypatch):
    queue = completions.CompletedRuns()

    assert not queue.warm_up()  # eager tasks (tests, development): nothing to prepare

    monkeypatch.setitem(completions.current_app.conf, "task_always_eager", False)
    assert queue.warm_up()
    with completions.current_app.producer_or_acquire() as producer:
        assert producer.connection.connected
