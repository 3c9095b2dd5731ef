"""The run settle (llm.services.run_settle): the run's end, its refund and the hand-off of completed runs."""

import itertools

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection

from game.models import CreditEntry
from llm import services
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


def settle(run: LLMRun, outcome: services.RunOutcome) -> LLMRun:
    return services.run_settle(run_id=run.pk, outcome=outcome)


def credits_of(user) -> int:
    return User.objects.values_list("credits", flat=True).get(pk=user.pk)


SETTLED_FIELDS = ("status", "output", "input_tokens", "output_tokens", "cost_credits", "ttft_ms", "latency_ms")


@pytest.mark.parametrize(
    ("outcome", "cost"),
    [
        (COMPLETED, 7),  # 5 input + 2 output tokens at one credit each
        (services.RunOutcome(status="cancelled", output="", produced_tokens=0), 0),
        # The model ended at once: it read the prompt but produced nothing, so nothing is charged.
        (services.RunOutcome(status="completed", output="", produced_tokens=0, input_tokens=5, output_tokens=0), 0),
        # No usage: the estimated 18 prompt tokens and the one delta received.
        (
            services.RunOutcome(
                status="failed", output="Hi", produced_tokens=1, error_code="provider_error", error_message="broke"
            ),
            19,
        ),
        (
            services.RunOutcome(status="completed", output="x", produced_tokens=1, input_tokens=500, output_tokens=16),
            RESERVE,
        ),
    ],
    ids=["completed", "cancelled-before-first-token", "completed-empty", "failed-midway", "usage-over-the-reservation"],
)
def test_a_settle_writes_the_run_and_refunds_exactly_the_unused_reservation(user, outcome, cost):
    run = start(user)

    returned = settle(run, outcome)

    stored = LLMRun.objects.get(pk=run.pk)
    assert [getattr(returned, f) for f in SETTLED_FIELDS] == [getattr(stored, f) for f in SETTLED_FIELDS]
    assert (stored.status, stored.output, stored.cost_credits) == (outcome.status, outcome.output, cost)
    assert (stored.error_code, stored.finished_at is not None) == (outcome.error_code, True)
    ledger = [
        (e.delta, e.balance_after, e.reason, e.idempotency_key, e.source)
        for e in CreditEntry.objects.filter(user=user, reason__startswith="run.").order_by("id")
    ]
    expected = [(-RESERVE, 100 - RESERVE, "run.reserve", f"run:{run.pk}:reserve", f"llm.run:{run.pk}")]
    if cost < RESERVE:
        expected.append((RESERVE - cost, 100 - cost, "run.refund", f"run:{run.pk}:refund", f"llm.run:{run.pk}"))
    assert ledger == expected
    # What a completed run earns (a first-run badge's credits) comes on top, through the ledger too.
    assert sum(CreditEntry.objects.filter(user=user).values_list("delta", flat=True)) == credits_of(user)


def test_a_run_settled_elsewhere_first_is_left_as_it_is(user):
    run = start(user)
    settle(run, services.RunOutcome(status="cancelled", output="H", produced_tokens=1, output_tokens=1))

    returned = settle(run, COMPLETED)

    assert (returned.status, returned.output) == ("cancelled", "H")
    refunds = CreditEntry.objects.filter(user=user, reason="run.refund")
    assert refunds.count() == 1
    assert sum(CreditEntry.objects.filter(user=user).values_list("delta", flat=True)) == credits_of(user)


@pytest.mark.postgresql
def test_settles_racing_starts_of_the_same_user_keep_the_ledger_exact(user, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 100
    set_credits(user, 40 * RESERVE)
    runs = [start(user) for _ in range(10)]
    connection.close()

    def work(i: int):
        if i < 10:
            return settle(runs[i], COMPLETED).status
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
        await database_sync_to_async(settle)(run, COMPLETED)
        received = await socket.receive_json_from(timeout=3)
    finally:
        await socket.disconnect()

    refund = RESERVE - 7  # 5 input + 2 output tokens at one credit each
    assert received == {"type": "credits.changed", "balance": before + refund, "delta": refund, "reason": "run.refund"}


def test_with_eager_tasks_a_completed_run_is_recorded_before_the_settle_returns(user):
    from game.models import Activity

    run = start(user)

    settle(run, COMPLETED)

    assert list(
        Activity.objects.filter(user=user, activity="run.completed").values_list("idempotency_key", flat=True)
    ) == [f"run:{run.pk}"]


def test_an_empty_completed_run_earns_nothing(user):
    from game.models import Activity

    run = start(user)

    stored = settle(run, services.RunOutcome(status="completed", output="", produced_tokens=0, input_tokens=5))

    assert (stored.status, stored.input_tokens, stored.output_tokens, stored.cost_credits) == ("completed", 5, 0, 0)
    assert not Activity.objects.filter(user=user, activity="run.completed").exists()
    assert credits_of(user) == 100
