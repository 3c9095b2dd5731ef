"""A run whose settle meets an unreachable database settles again, and its client always hears its end."""

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from llm import execution
from llm.models import LLMRun
from tests.llm.runs_support import TEST_MODEL, playground, receive_until_end

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database_down_for(monkeypatch):
    """`database_down_for(n)`: the next `n` settles fail as if the database were restarting."""
    monkeypatch.setattr(execution, "SETTLE_RETRY_SECONDS", (0, 0, 0))
    real_settle, failures = execution.run_settle, {"left": 0}

    def settle(**kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("the database system is shutting down")
        return real_settle(**kwargs)

    monkeypatch.setattr(execution, "run_settle", settle)
    return lambda n: failures.update(left=n)


async def run_once(user) -> list[dict]:
    ws = await playground(user)
    try:
        await ws.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Say hi"})
        return await receive_until_end(ws)
    finally:
        await ws.disconnect()


async def test_a_settle_that_fails_while_the_database_restarts_is_made_again(user, provider, database_down_for):
    database_down_for(2)

    frames = await run_once(user)

    assert frames[-1]["type"] == "run.completed"
    run = await database_sync_to_async(LLMRun.objects.get)(pk=frames[-1]["run_id"])
    assert (run.status, run.output) == ("completed", "Hello, world!")


async def test_a_run_that_cannot_be_settled_still_ends_for_its_client(user, provider, database_down_for):
    database_down_for(4)

    frames = await run_once(user)

    assert frames[-1]["type"] == "run.failed"
    assert frames[-1]["request_id"] == "r1"
    assert frames[-1]["error"]["code"] == "interrupted"
    assert frames[-1]["output"] == "Hello, world!"
    run = await database_sync_to_async(LLMRun.objects.get)(pk=frames[-1]["run_id"])
    assert run.status == "running"  # runs_fail_stale settles it (and refunds) once it is stale
