"""Credit reservation under real concurrency on PostgreSQL, and settlement arithmetic."""

import threading

import pytest
from django.db import connection

from game.models import CreditEntry
from llm import services
from llm.models import LLMRun
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, serving_test_model, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]

# "Say hi": 18 estimated input tokens + max_tokens 16 at one credit per token.
RESERVE = 34


@pytest.fixture
def test_model():
    with serving_test_model(ScriptedProvider()):
        yield


def start_run(user) -> LLMRun:
    try:
        plan = services.run_prepare(user=user, model=TEST_MODEL, prompt="Say hi")
        return services.run_start(user_id=user.pk, plan=plan)
    finally:
        connection.close()


@pytest.mark.postgresql
def test_fifty_parallel_runs_for_a_balance_of_ten_start_exactly_ten(user, test_model, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 50
    set_credits(user, 10 * RESERVE)
    runs: list[LLMRun] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def worker():
        try:
            barrier.wait()
            runs.append(start_run(user))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    started = [run for run in runs if run.status == "running"]
    refused = [run for run in runs if run.status == "failed"]
    assert len(started) == 10
    assert len(refused) == 40
    assert {run.error_code for run in refused} == {"insufficient_credits"}
    user.refresh_from_db()
    assert user.credits == 0
    entries = CreditEntry.objects.filter(user=user)
    assert sum(entry.delta for entry in entries) == user.credits
    assert entries.filter(reason="run.reserve").count() == 10

    def settle(run):
        try:
            services.run_settle(
                run_id=run.pk,
                outcome=services.RunOutcome(
                    status="failed", output="ab", produced_tokens=2, error_code="provider_error", error_message="x"
                ),
            )
        finally:
            connection.close()

    settlers = [threading.Thread(target=settle, args=(run,)) for run in started]
    for thread in settlers:
        thread.start()
    for thread in settlers:
        thread.join()

    user.refresh_from_db()
    # Each failed-after-two-tokens run pays 18 (estimated input) + 2 and gets 14 back.
    assert user.credits == 10 * 14
    assert sum(entry.delta for entry in CreditEntry.objects.filter(user=user)) == user.credits
    assert set(LLMRun.objects.filter(user=user).values_list("status", flat=True)) == {"failed"}


def test_settling_twice_refunds_once(user, test_model):
    run = start_run(user)
    outcome = services.RunOutcome(status="completed", output="Hi", produced_tokens=1, input_tokens=5, output_tokens=1)

    services.run_settle(run_id=run.pk, outcome=outcome)
    services.run_settle(run_id=run.pk, outcome=outcome)

    run.refresh_from_db()
    assert (run.status, run.cost_credits) == ("completed", 6)
    refunds = CreditEntry.objects.filter(user=user, reason="run.refund")
    assert [entry.delta for entry in refunds] == [RESERVE - 6]


def test_usage_above_the_reservation_is_capped_at_the_reservation(user, test_model):
    run = start_run(user)
    outcome = services.RunOutcome(status="completed", output="x", produced_tokens=1, input_tokens=500, output_tokens=16)

    settled = services.run_settle(run_id=run.pk, outcome=outcome)

    assert settled.cost_credits == RESERVE
    assert not CreditEntry.objects.filter(user=user, reason="run.refund").exists()


def test_cancelled_before_the_first_token_costs_nothing(user, test_model):
    run = start_run(user)

    settled = services.run_settle(
        run_id=run.pk, outcome=services.RunOutcome(status="cancelled", output="", produced_tokens=0)
    )

    user.refresh_from_db()
    assert settled.cost_credits == 0
    assert [e.delta for e in CreditEntry.objects.filter(user=user, reason="run.refund")] == [RESERVE]


def test_runs_left_running_by_a_dead_process_are_settled_and_refunded(user, test_model):
    from django.utils import timezone

    from llm.tasks import runs_fail_stale

    stale = start_run(user)
    fresh = start_run(user)
    LLMRun.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timezone.timedelta(hours=1))

    assert runs_fail_stale() == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.error_code, stale.cost_credits) == ("failed", "timeout", 0)
    assert fresh.status == "running"
    assert [e.delta for e in CreditEntry.objects.filter(user=user, reason="run.refund")] == [RESERVE]


def test_a_completed_run_is_reported_to_the_game_once(user, test_model):
    from game.models import Activity

    run = start_run(user)
    outcome = services.RunOutcome(status="completed", output="Hi", produced_tokens=1, input_tokens=5, output_tokens=1)

    services.run_settle(run_id=run.pk, outcome=outcome)
    services.run_completed_record(run_id=run.pk)  # a redelivered task changes nothing

    activities = Activity.objects.filter(user=user, activity="run.completed")
    assert [(a.idempotency_key, a.data) for a in activities] == [
        (f"run:{run.pk}", {"provider": "test", "model": "echo", "output_tokens": 1})
    ]


@pytest.mark.postgresql
def test_ten_parallel_starts_with_a_limit_of_three_start_exactly_three(user, test_model):
    set_credits(user, 10 * RESERVE)
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def worker():
        barrier.wait()
        try:
            outcomes.append(start_run(user).status)
        except services.RunRefused as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["concurrency_limit"] * 7 + ["running"] * 3
    user.refresh_from_db()
    assert user.credits == 7 * RESERVE
    assert LLMRun.objects.filter(user=user).count() == 3


def test_a_one_token_run_is_reported_but_earns_no_run_xp(user, test_model):
    from game.models import PlayerStats, XPEvent

    run = start_run(user)
    outcome = services.RunOutcome(status="completed", output="Hi", produced_tokens=1, input_tokens=5, output_tokens=1)

    services.run_settle(run_id=run.pk, outcome=outcome)
    services.run_completed_record(run_id=run.pk)

    assert not XPEvent.objects.filter(user=user).exists()
    assert PlayerStats.objects.get(user=user).runs_completed == 0
