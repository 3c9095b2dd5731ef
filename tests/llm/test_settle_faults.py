"""A run whose settle fails: retried until it lands, and every client gets an end either way."""

import asyncio
import dataclasses

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import OperationalError

from llm import settling
from llm.models import LLMRun, RunStatus
from tests.llm.runs_support import TEST_MODEL, playground, receive_until_end, response_json, run_ledger

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.LLM_SETTLE_RETRY_DELAYS = (0.05, 0.05, 0.05)


@pytest.fixture
def failing_settles(monkeypatch):
    """`failing_settles(n)`: the next n settles raise OperationalError (as a dropped connection does)."""
    real = settling.run_settle
    left = {"n": 0}

    def settle(**kwargs):
        if left["n"] > 0:
            left["n"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(settling, "run_settle", settle)

    def arm(n: int) -> dict:
        left["n"] = n
        return left

    return arm


async def _run_on_socket(user) -> list[dict]:
    communicator = await playground(user)
    try:
        await communicator.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Hi"})
        return await receive_until_end(communicator)
    finally:
        await communicator.disconnect()


async def test_a_settle_that_fails_once_is_retried_and_the_run_completes(user, provider, failing_settles):
    left = failing_settles(1)

    frames = await _run_on_socket(user)

    assert left["n"] == 0
    assert frames[-1]["type"] == "run.completed"
    assert frames[-1]["output"] == "Hello, world!"
    run = await database_sync_to_async(LLMRun.objects.get)(pk=frames[-1]["run_id"])
    assert run.status == RunStatus.COMPLETED
    # Charged what it used (7 in + 4 out at one credit each), the rest of the reservation back.
    ledger = await database_sync_to_async(run_ledger)(str(run.pk))
    assert ledger["run.reserve"] + ledger["run.refund"] == -11


async def test_a_settle_that_keeps_failing_still_ends_the_run_for_its_client(user, provider, failing_settles):
    failing_settles(100)

    frames = await asyncio.wait_for(_run_on_socket(user), 10)

    end = frames[-1]
    assert end["type"] == "run.failed"
    assert end["request_id"] == "r1"
    assert end["error"]["code"] == "service_unavailable"
    assert end["output"] == "Hello, world!"


async def test_a_run_whose_settle_gave_up_is_recorded_later_as_its_client_was_told(
    user, provider, failing_settles, monkeypatch
):
    """The outcome handed to the worker is the end the client got; the worker's task records it."""
    handed = []
    monkeypatch.setattr(settling, "_hand_off", lambda run_id, outcome: handed.append((run_id, outcome)))
    failing_settles(100)
    frames = await _run_on_socket(user)
    end = frames[-1]
    [(run_id, outcome)] = handed
    assert run_id == end["run_id"]
    assert (outcome.status, outcome.error_code, outcome.output) == ("failed", end["error"]["code"], end["output"])
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert run.status == RunStatus.RUNNING

    from llm.tasks import run_settle_later

    await database_sync_to_async(run_settle_later)(run_id, dataclasses.asdict(outcome))
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.error_code, run.output) == (RunStatus.FAILED, "service_unavailable", "Hello, world!")
    # Charged what it used (7 in + 4 out at one credit each), the rest of the reservation back.
    ledger = await database_sync_to_async(run_ledger)(run_id)
    assert ledger["run.reserve"] + ledger["run.refund"] == -11


def test_post_runs_answers_when_the_settle_keeps_failing(auth_client, provider, failing_settles):
    failing_settles(100)

    response = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")

    assert response.status_code == 201
    run = response_json(response)
    assert run["status"] == "failed"
    assert run["error"]["code"] == "service_unavailable"
    assert run["output"] == "Hello, world!"


def test_post_runs_answers_after_a_settle_that_failed_once(auth_client, provider, failing_settles):
    failing_settles(1)

    response = auth_client.post("/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json")

    run = response_json(response)
    assert (run["status"], run["cost_credits"]) == ("completed", 11)


def test_sse_ends_with_a_terminal_event_when_the_settle_keeps_failing(auth_client, provider, failing_settles):
    failing_settles(100)

    response = auth_client.post(
        "/api/v1/llm/runs/", {"model": TEST_MODEL, "prompt": "Say hi"}, format="json", HTTP_ACCEPT="text/event-stream"
    )

    async def collect() -> bytes:
        async def chunks() -> bytes:
            return b"".join([chunk async for chunk in response.streaming_content])

        return await asyncio.wait_for(chunks(), 10)

    body = async_to_sync(collect)().decode()
    events = [line.split(": ", 1)[1] for line in body.splitlines() if line.startswith("event: ")]
    assert events[0] == "run.started"
    assert events[-1] == "run.failed"
    assert "service_unavailable" in body
