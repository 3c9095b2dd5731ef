"""The run start (llm.services.run_start): limits, ledger and events, for real, on PostgreSQL."""

import asyncio
import dataclasses
import threading
import time

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.db import DataError, IntegrityError, connection, transaction

from game.models import CreditEntry
from llm import registry, services
from llm.models import LLMRun
from tests.game.conftest import run_in_threads
from tests.game.test_consumers import events_socket
from tests.llm.runs_support import (
    TEST_MODEL,
    ScriptedProvider,
    echo_model_spec,
    playground,
    receive_until_end,
    serving_test_model,
    set_credits,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

User = get_user_model()

# "Say hi": 18 estimated input tokens + max_tokens 16 at one credit per token.
RESERVE = 34


@pytest.fixture(autouse=True)
def test_model():
    with serving_test_model(ScriptedProvider()):
        yield


def plan_for(user, **params) -> services.RunPlan:
    return services.run_prepare(user=user, model=TEST_MODEL, prompt="Say hi", params=params or None)


def start(user) -> LLMRun:
    return services.run_start(user_id=user.pk, plan=plan_for(user))


def credits_of(user) -> int:
    return User.objects.values_list("credits", flat=True).get(pk=user.pk)


def written(user) -> tuple[int, int, int]:
    """(runs, ledger rows, credits) of the user."""
    return LLMRun.objects.filter(user=user).count(), CreditEntry.objects.filter(user=user).count(), credits_of(user)


def test_a_start_reserves_with_one_exact_ledger_row_and_returns_a_saved_run(user):
    run = start(user)

    assert credits_of(user) == 100 - RESERVE
    entry = CreditEntry.objects.get(user=user, reason="run.reserve")
    assert (entry.delta, entry.balance_after) == (-RESERVE, 100 - RESERVE)
    assert (entry.idempotency_key, entry.source) == (f"run:{run.pk}:reserve", f"llm.run:{run.pk}")
    saved = LLMRun.objects.get(pk=run.pk)
    assert (saved.status, saved.reserved_credits, saved.prompt, saved.model) == (
        "running",
        RESERVE,
        "Say hi",
        TEST_MODEL,
    )
    assert saved.params == {"temperature": 0.7, "max_tokens": 16}
    assert saved.created_at == run.created_at
    assert not run._state.adding


def test_consecutive_starts_chain_balance_after_exactly(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 10

    runs = [start(user) for _ in range(2)]

    entries = CreditEntry.objects.filter(user=user, reason="run.reserve").order_by("id")
    assert [(e.idempotency_key, e.balance_after) for e in entries] == [
        (f"run:{runs[0].pk}:reserve", 100 - RESERVE),
        (f"run:{runs[1].pk}:reserve", 100 - 2 * RESERVE),
    ]
    assert sum(CreditEntry.objects.filter(user=user).values_list("delta", flat=True)) == credits_of(user)


def test_a_start_the_balance_cannot_cover_is_a_failed_run_charging_nothing(user):
    set_credits(user, RESERVE - 1)
    before = CreditEntry.objects.filter(user=user).count()

    run = start(user)

    assert (run.status, run.error_code, run.reserved_credits) == ("failed", "insufficient_credits", 0)
    saved = LLMRun.objects.get(pk=run.pk)
    assert (saved.status, saved.reserved_credits, saved.cost_credits) == ("failed", 0, 0)
    assert credits_of(user) == RESERVE - 1
    assert CreditEntry.objects.filter(user=user).count() == before


def test_a_start_over_the_limit_writes_nothing(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    start(user)
    before = written(user)

    with pytest.raises(services.RunRefused) as refused:
        start(user)

    assert refused.value.code == "concurrency_limit"
    assert written(user) == before


def test_the_limit_is_checked_before_the_balance(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    start(user)
    set_credits(user, 1)
    before = written(user)

    with pytest.raises(services.RunRefused) as refused:
        start(user)

    assert refused.value.code == "concurrency_limit"
    assert written(user) == before


def test_a_free_run_reserves_nothing_and_still_counts_against_the_limit(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    free = echo_model_spec().model_copy(update={"credits_per_1k_input": 0, "credits_per_1k_output": 0})

    with registry.override_models((free, ScriptedProvider())):
        run = start(user)
        assert (run.status, run.reserved_credits) == ("running", 0)
        with pytest.raises(services.RunRefused):
            start(user)

    assert credits_of(user) == 100
    assert not CreditEntry.objects.filter(user=user, reason="run.reserve").exists()


@pytest.mark.postgresql
def test_parallel_starts_of_one_user_start_exactly_the_limit(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 3
    set_credits(user, 20 * RESERVE)

    def attempt(_: int) -> str:
        try:
            return start(user).status
        except services.RunRefused as exc:
            return exc.code

    outcomes = run_in_threads(attempt, 20)

    assert sorted(outcomes) == ["concurrency_limit"] * 17 + ["running"] * 3
    assert credits_of(user) == 17 * RESERVE
    entries = CreditEntry.objects.filter(user=user, reason="run.reserve").order_by("id")
    assert [e.balance_after for e in entries] == [19 * RESERVE, 18 * RESERVE, 17 * RESERVE]
    assert LLMRun.objects.filter(user=user).count() == 3


@pytest.mark.postgresql
def test_a_start_waiting_for_the_lock_counts_the_runs_committed_meanwhile(user, settings):
    """The count runs after the lock is granted, with a fresh snapshot (not one from before the wait)."""
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    plan = plan_for(user)
    outcome: list[str] = []

    def second_start() -> None:
        try:
            outcome.append(services.run_start(user_id=user.pk, plan=plan).status)
        except services.RunRefused as exc:
            outcome.append(exc.code)
        finally:
            connection.close()

    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # a start of another process, mid-way
        waiter = threading.Thread(target=second_start)
        waiter.start()
        _wait_until_blocked_on_a_lock()
        LLMRun.objects.create(user=user, model=TEST_MODEL, prompt="first", reserved_credits=0)
    waiter.join(timeout=10)

    assert outcome == ["concurrency_limit"]
    assert LLMRun.objects.filter(user=user).count() == 1


def _wait_until_blocked_on_a_lock(timeout: float = 5.0) -> None:
    from django.db import connections

    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second start never waited for the user row lock")


async def test_credits_changed_is_sent_after_commit_and_not_before(user):
    socket = await events_socket(user)
    committed = threading.Event()
    proceed = threading.Event()

    def start_in_a_transaction() -> LLMRun:
        with transaction.atomic():
            run = start(user)  # inside the caller's transaction: a savepoint; the event waits for commit
            committed.set()
            proceed.wait(5)
        return run

    try:
        starting = asyncio.ensure_future(database_sync_to_async(start_in_a_transaction)())
        await asyncio.get_running_loop().run_in_executor(None, committed.wait, 5)
        assert await socket.receive_nothing(timeout=0.5)  # written, not committed: nothing sent
        proceed.set()
        await starting
        received = await socket.receive_json_from(timeout=3)
    finally:
        proceed.set()
        await socket.disconnect()

    assert received == {"type": "credits.changed", "balance": 100 - RESERVE, "delta": -RESERVE, "reason": "run.reserve"}


async def test_a_rolled_back_caller_transaction_leaves_no_run_no_charge_and_no_event(user):
    socket = await events_socket(user)

    def start_then_fail() -> None:
        with transaction.atomic():
            start(user)
            raise RuntimeError("the caller failed after starting")

    try:
        with pytest.raises(RuntimeError):
            await database_sync_to_async(start_then_fail)()
        assert await socket.receive_nothing(timeout=0.5)
    finally:
        await socket.disconnect()

    assert await database_sync_to_async(written)(user) == (0, 1, 100)  # the welcome credits' row only


@pytest.mark.postgresql
def test_a_failed_statement_rolls_back_and_leaves_the_connection_clean(user):
    plan = plan_for(user)
    broken = dataclasses.replace(plan, template_id="00000000-0000-0000-0000-000000000000")

    # No such template: the foreign key (deferred, as Django makes them) fails at COMMIT.
    with pytest.raises(IntegrityError):
        services.run_start(user_id=user.pk, plan=broken)

    assert connection.get_autocommit() and not connection.needs_rollback
    assert connection.connection.info.transaction_status.name == "IDLE"
    assert written(user) == (0, 1, 100)  # the welcome credits' row only
    assert start(user).status == "running"  # the same connection serves the next start


@pytest.mark.postgresql
def test_a_failed_statement_inside_a_caller_transaction_leaves_that_transaction_usable(user):
    plan = plan_for(user)
    broken = dataclasses.replace(plan, model_id="x" * 101)

    with transaction.atomic():
        with pytest.raises(DataError):  # longer than the column: the statement itself fails
            services.run_start(user_id=user.pk, plan=broken)
        run = start(user)

    assert LLMRun.objects.get(pk=run.pk).status == "running"
    assert credits_of(user) == 100 - RESERVE


async def test_the_playground_sends_the_reservation_event_after_run_started(user):
    events = await events_socket(user)
    ws = await playground(user)
    try:
        await ws.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Say hi"})
        frames = await receive_until_end(ws)
        reserve = await events.receive_json_from(timeout=3)
        refund = await events.receive_json_from(timeout=3)
    finally:
        await ws.disconnect()
        await events.disconnect()

    assert frames[0]["type"] == "run.started"
    assert reserve == {"type": "credits.changed", "balance": 100 - RESERVE, "delta": -RESERVE, "reason": "run.reserve"}
    # The scripted run uses 7 input + 4 output tokens: 11 credits, 23 of the 34 come back.
    assert refund == {"type": "credits.changed", "balance": 100 - 11, "delta": RESERVE - 11, "reason": "run.refund"}
