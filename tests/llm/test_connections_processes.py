"""Model changes reach every server process without a restart (Redis version counter), and no log shows a key."""

import asyncio
import json
import time

import httpx
import pytest
from channels.db import database_sync_to_async

from llm import connection_services
from llm.models import ConnectionModel
from tests.fakes import fake_openai_server
from tests.llm.test_playground_processes import open_playground, recv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

KEY = "sk-lab-a-Pq4processes"


def listed(server) -> dict[str, dict]:
    return {model["id"]: model for model in httpx.get(f"{server.http_url}/api/v1/llm/models/", timeout=15).json()}


async def until(check, timeout: float = 15.0):
    """Poll `check` (sync, run in a thread) until it returns something truthy; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


def connect(url: str) -> None:
    connection = connection_services.connection_create(
        name="lab-a", kind="openai-compatible", base_url=f"{url}/v1", api_key=KEY
    )
    connection_services.connection_discover(connection=connection)
    model = ConnectionModel.objects.get(name="alpha-1")
    connection_services.model_update(
        model=model, credits_per_1k_input=1, credits_per_1k_output=2, default_max_tokens=16, enabled=True
    )


def price(name: str, output: float) -> None:
    connection_services.model_update(model=ConnectionModel.objects.get(name=name), credits_per_1k_output=output)


def enable(name: str) -> None:
    connection_services.model_update(
        model=ConnectionModel.objects.get(name=name), default_max_tokens=16, credits_per_1k_output=1, enabled=True
    )


async def test_model_changes_reach_both_server_processes_without_a_restart(user, daphne):
    fake = fake_openai_server(models=["alpha-1", "alpha-2"]).start()
    try:
        first, second = daphne(), daphne()
        before = [await asyncio.to_thread(listed, server) for server in (first, second)]
        await database_sync_to_async(connect)(fake.url)

        added = [
            await until(lambda s=server: listed(s).get("lab-a:alpha-1", {}).get("credits_per_1k_output") == 2.0)
            for server in (first, second)
        ]
        await database_sync_to_async(price)("alpha-1", 7)
        repriced = [
            await until(lambda s=server: listed(s)["lab-a:alpha-1"]["credits_per_1k_output"] == 7.0)
            for server in (first, second)
        ]
        await database_sync_to_async(enable)("alpha-2")
        await until(lambda: "lab-a:alpha-2" in listed(second))
        ws = await open_playground(second, user)
        try:
            await ws.send(
                json.dumps({"type": "run.start", "request_id": "r1", "model": "lab-a:alpha-2", "prompt": "Hi"})
            )
            frames = [await recv(ws)]
            while frames[-1]["type"] not in ("run.completed", "run.failed"):
                frames.append(await recv(ws))
        finally:
            await ws.close()
        await database_sync_to_async(
            lambda: connection_services.model_update(model=ConnectionModel.objects.get(name="alpha-1"), enabled=False)
        )()
        removed = [await until(lambda s=server: "lab-a:alpha-1" not in listed(s)) for server in (first, second)]
    finally:
        fake.stop()

    assert all("lab-a:alpha-1" not in models for models in before)  # both had loaded the registry already
    assert added == repriced == removed == [True, True]
    assert frames[-1]["type"] == "run.completed", frames[-1]
    chat = [r for r in fake.requests if r.method == "POST"]
    assert [(r.body["model"], r.headers["authorization"]) for r in chat] == [("alpha-2", f"Bearer {KEY}")]
    for server in (first, second):
        assert KEY not in server.log()
