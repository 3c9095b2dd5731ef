"""PostgreSQL restarting as a run ends, under a real daphne process: the settle waits it out.

The run's last tokens arrive while the database is down; the settle fails, is retried, and
lands once PostgreSQL is back: the client gets `run.completed`, the run is charged once, and the
server answers requests again (the pool replaces the connections the restart killed).
"""

import asyncio
import json
import time

import httpx
import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError, connection, connections

from llm.models import LLMRun
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.llm.runs_support import access_token, run_ledger
from tests.llm.test_playground_processes import MODEL, open_playground, recv, server_env
from tests.support.processes import postgresql_stopped

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes, pytest.mark.postgresql]

TOKENS = [f"t{i} " for i in range(20)]


def _reconnect() -> None:
    """A fresh pool for this process (the restart killed its connections), once the database answers."""
    deadline = time.monotonic() + 60
    while True:
        connections.close_all()
        connection.close_pool()
        try:
            connection.ensure_connection()
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def reconnecting(transactional_db):
    """The restart killed this process's connections too: drop them before the database is flushed."""
    yield
    _reconnect()


async def test_a_run_ending_while_postgresql_restarts_settles_once_it_is_back(
    reconnecting,
    user,
    daphne,
    fake_openai,  # noqa: F811
):
    fake_openai.script(tokens=TOKENS, delay=0.1)
    server = daphne(**server_env(fake_openai))
    ws = await open_playground(server, user)
    try:
        await ws.send(json.dumps({"type": "run.start", "request_id": "r1", "model": MODEL, "prompt": "Count"}))
        run_id = (await recv(ws))["run_id"]
        assert (await recv(ws))["type"] == "run.token"
        frames = []
        with postgresql_stopped():
            while not frames or frames[-1]["type"] == "run.token":
                frame = await recv(ws, timeout=30)
                frames.append(frame)
                if "".join(f.get("delta", "") for f in frames if f["type"] == "run.token").endswith("t19 "):
                    await asyncio.sleep(1.0)  # the settle has met the stopped database by now
                    break
        while frames[-1]["type"] == "run.token":
            frames.append(await recv(ws, timeout=30))
    finally:
        await ws.close()
    await database_sync_to_async(_reconnect)()

    end = frames[-1]
    assert end["type"] == "run.completed", end
    assert end["output"] == "".join(TOKENS)
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.output) == ("completed", "".join(TOKENS))
    ledger = await database_sync_to_async(run_ledger)(run_id)
    assert ledger["run.reserve"] + ledger["run.refund"] == -run.cost_credits
    token = await database_sync_to_async(access_token)(user)
    async with httpx.AsyncClient(timeout=10) as client:
        me = await client.get(f"{server.http_url}/api/v1/auth/me/", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
