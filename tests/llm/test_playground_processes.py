"""Real daphne processes sharing PostgreSQL and Redis: resume on another process, SIGTERM, SSE.

The model is `openai:gpt-4o-mini` served by the fake OpenAI server through the real SDK,
priced at one credit per token so the arithmetic is easy to read.
"""

import asyncio
import json
import signal

import httpx
import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect

from llm.models import LLMRun
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.llm.runs_support import access_token, run_ledger, set_credits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

MODEL = "openai:gpt-4o-mini"
MODELS_JSON = json.dumps(
    [
        {
            "id": MODEL,
            "display_name": "GPT-4o mini",
            "context_limit": 128000,
            "max_output_tokens": 256,
            "default_params": {"temperature": 0.7, "max_tokens": 64},
            "credits_per_1k_input": 1000,
            "credits_per_1k_output": 1000,
        }
    ]
)


def server_env(fake) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": f"{fake.url}/v1",
        "OPENAI_API_KEY": "sk-test",
        "LLM_MODELS_JSON": MODELS_JSON,
        "LLM_MAX_RETRIES": "0",
    }


async def open_playground(server, user):
    ws = await connect(f"{server.ws_url}/ws/playground/")
    await ws.send(json.dumps({"type": "auth", "token": await database_sync_to_async(access_token)(user)}))
    assert json.loads(await ws.recv())["type"] == "auth.ok"
    return ws


async def recv(ws, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def resumed_elsewhere(first_server, second_server, user) -> tuple[str, list[dict], list[dict]]:
    """Start a run on the first server, close the socket after 3 frames, resume it on the second:
    the run id, the frames seen before, and the rest up to the terminal frame."""
    ws = await open_playground(first_server, user)
    await ws.send(json.dumps({"type": "run.start", "request_id": "r1", "model": MODEL, "prompt": "Count please"}))
    run_id = (await recv(ws))["run_id"]
    seen = [await recv(ws) for _ in range(3)]
    await ws.close()

    ws = await open_playground(second_server, user)
    try:
        await ws.send(json.dumps({"type": "run.resume", "run_id": run_id, "after_seq": seen[-1]["seq"]}))
        rest = []
        while not rest or rest[-1]["type"] == "run.token":
            rest.append(await recv(ws))
    finally:
        await ws.close()
    return run_id, seen, rest


async def test_a_run_resumes_on_a_second_process_after_the_socket_closes(user, daphne, fake_openai):  # noqa: F811
    tokens = [f"w{i} " for i in range(30)]
    fake_openai.script(tokens=tokens, delay=0.08)
    first_server, second_server = daphne(**server_env(fake_openai)), daphne(**server_env(fake_openai))

    _, seen, rest = await resumed_elsewhere(first_server, second_server, user)

    frames = seen + rest
    token_frames = [f for f in frames if f["type"] == "run.token"]
    assert [f["seq"] for f in token_frames] == list(range(len(token_frames)))
    assert "".join(f["delta"] for f in token_frames) == "".join(tokens)
    completed = rest[-1]
    assert completed["type"] == "run.completed"
    assert completed["output"] == "".join(tokens)
    assert completed["usage"] == {"input_tokens": 2, "output_tokens": 30}
    assert completed["cost_credits"] == 32
    request = fake_openai.last_request()
    assert await asyncio.to_thread(request.wait_done, 5)  # the server marks it after its last write
    assert request.completed and not request.disconnected


async def test_sigterm_settles_running_runs_as_interrupted_with_partial_output(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=[f"t{i} " for i in range(200)], delay=0.1)
    await database_sync_to_async(set_credits)(user, 1000)
    server = daphne(**server_env(fake_openai))
    closed = await open_playground(server, user)  # its run waits in the resume grace period
    await closed.send(json.dumps({"type": "run.start", "model": MODEL, "prompt": "Go on"}))
    detached_id = (await recv(closed))["run_id"]
    await recv(closed)
    await closed.close()
    ws = await open_playground(server, user)
    await ws.send(json.dumps({"type": "run.start", "request_id": "r1", "model": MODEL, "prompt": "Go on"}))
    run_id = (await recv(ws))["run_id"]
    received = [await recv(ws) for _ in range(3)]

    server.proc.send_signal(signal.SIGTERM)
    while received[-1]["type"] == "run.token":
        received.append(await recv(ws))
    await asyncio.to_thread(server.proc.wait, 15)
    await ws.close()

    assert received[-1]["type"] == "run.failed"
    assert received[-1]["request_id"] == "r1"
    assert received[-1]["error"]["code"] == "interrupted"
    for settled_id in (run_id, detached_id):
        run = await database_sync_to_async(LLMRun.objects.get)(pk=settled_id)
        assert (run.status, run.error_code) == ("failed", "interrupted")
        produced = len(run.output.split())
        assert produced >= 1
        # No usage arrived: the estimated input (ceil(5 bytes / 3) + 16 = 18) plus one credit per token.
        assert run.cost_credits == 18 + produced
        ledger = await database_sync_to_async(run_ledger)(settled_id)
        assert ledger == {"run.reserve": -run.reserved_credits, "run.refund": run.reserved_credits - run.cost_credits}
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert run.output == "".join(f["delta"] for f in received[:-1])
    assert received[-1]["output"] == run.output
    assert fake_openai.last_request().disconnected


async def test_sse_streams_the_same_events_as_the_socket(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=["Hel", "lo", "!"], delay=0.05)
    server = daphne(**server_env(fake_openai))
    token = await database_sync_to_async(access_token)(user)

    events = []
    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as client,
        client.stream(
            "POST",
            "/api/v1/llm/runs/",
            json={"model": MODEL, "prompt": "Greet me"},
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        ) as response,
    ):
        status, headers = response.status_code, response.headers
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))

    assert status == 201
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-accel-buffering"] == "no"
    assert events[0][0] == "run.started"
    assert events[-1][0] == "run.completed"
    assert all(name == data["type"] for name, data in events)
    tokens = [data for name, data in events if name == "run.token"]
    assert [t["seq"] for t in tokens] == list(range(len(tokens)))
    assert "".join(t["delta"] for t in tokens) == "Hello!"
    assert events[-1][1]["usage"] == {"input_tokens": 2, "output_tokens": 3}


async def test_post_without_sse_answers_the_finished_run_as_json(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=["Hel", "lo", "!"], delay=0.05)
    server = daphne(**server_env(fake_openai))
    token = await database_sync_to_async(access_token)(user)

    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        response = await client.post(
            "/api/v1/llm/runs/",
            json={"model": MODEL, "prompt": "Greet me"},
            headers={"Authorization": f"Bearer {token}"},
        )
        history = await client.get("/api/v1/llm/runs/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    run = response.json()
    assert (run["status"], run["output"], run["input_tokens"], run["output_tokens"]) == ("completed", "Hello!", 2, 3)
    assert run["cost_credits"] == 5
    assert [r["id"] for r in history.json()["results"]] == [run["id"]]


async def test_a_run_is_cancelled_from_a_socket_on_another_process(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=[f"t{i} " for i in range(200)], delay=0.05)
    first_server, second_server = daphne(**server_env(fake_openai)), daphne(**server_env(fake_openai))
    owner = await open_playground(first_server, user)
    other = await open_playground(second_server, user)
    try:
        await owner.send(json.dumps({"type": "run.start", "model": MODEL, "prompt": "Go on"}))
        run_id = (await recv(owner))["run_id"]
        await recv(owner)
        await other.send(json.dumps({"type": "run.cancel", "run_id": run_id}))
        on_other = await recv(other)
        on_owner = [await recv(owner)]
        while on_owner[-1]["type"] == "run.token":
            on_owner.append(await recv(owner))
    finally:
        await owner.close()
        await other.close()

    assert on_other["type"] == "run.cancelled"
    assert on_owner[-1] == on_other
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.output) == ("cancelled", on_other["output"])
    request = fake_openai.last_request()
    assert await asyncio.to_thread(request.wait_done, 5)
    assert request.disconnected


async def test_a_run_whose_process_was_killed_is_settled_by_its_follower(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=[f"t{i} " for i in range(200)], delay=0.1)
    doomed, survivor = daphne(**server_env(fake_openai)), daphne(**server_env(fake_openai))
    ws = await open_playground(doomed, user)
    await ws.send(json.dumps({"type": "run.start", "model": MODEL, "prompt": "Go on"}))
    run_id = (await recv(ws))["run_id"]
    seen = [await recv(ws) for _ in range(2)]
    doomed.proc.send_signal(signal.SIGKILL)  # no chance to settle anything
    await asyncio.to_thread(doomed.proc.wait, 10)
    await ws.close()

    ws = await open_playground(survivor, user)
    try:
        await ws.send(json.dumps({"type": "run.resume", "run_id": run_id, "after_seq": seen[-1]["seq"]}))
        rest = [await recv(ws, timeout=20)]
        while rest[-1]["type"] == "run.token":
            rest.append(await recv(ws, timeout=20))
    finally:
        await ws.close()

    failed = rest[-1]
    streamed = "".join(f["delta"] for f in [*seen, *rest[:-1]])
    assert failed["type"] == "run.failed"
    assert failed["error"]["code"] == "interrupted"
    # The output is what the run's stream held. A frame reaches the socket just before the
    # stream, so the one in flight when the process died may be missing (then nothing follows it).
    in_flight = seen[-1]["delta"] if len(rest) == 1 else ""
    assert failed["output"] in (streamed, streamed.removesuffix(in_flight))
    assert failed["output"].startswith("t0 ")
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.output, run.cost_credits) == ("failed", failed["output"], 0)
    ledger = await database_sync_to_async(run_ledger)(run_id)
    assert ledger["run.reserve"] + ledger["run.refund"] == 0


async def test_an_sse_client_that_goes_away_has_its_run_cancelled_after_the_grace_period(
    user,
    daphne,
    fake_openai,  # noqa: F811
):
    fake_openai.script(tokens=[f"t{i} " for i in range(200)], delay=0.05)
    server = daphne(**server_env(fake_openai), LLM_RESUME_GRACE_SECONDS="0.5")
    token = await database_sync_to_async(access_token)(user)

    async with (
        httpx.AsyncClient(base_url=server.http_url, timeout=10) as client,
        client.stream(
            "POST",
            "/api/v1/llm/runs/",
            json={"model": MODEL, "prompt": "Go on"},
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        ) as response,
    ):
        lines = response.aiter_lines()
        started = None
        while started is None:
            line = await anext(lines)
            if line.startswith("data: "):
                started = json.loads(line.removeprefix("data: "))
    # The client is gone.

    request = fake_openai.last_request()
    assert await asyncio.to_thread(request.wait_done, 10)
    for _ in range(50):
        run = await database_sync_to_async(LLMRun.objects.get)(pk=started["run_id"])
        if run.status != "running":
            break
        await asyncio.sleep(0.1)
    assert run.status == "cancelled"
    assert request.disconnected


async def test_a_completed_run_earns_its_activity_through_a_celery_worker(user, daphne, fake_openai, log_dir):  # noqa: F811
    from contextlib import ExitStack

    from game.models import Activity
    from tests.support.processes import celery_worker

    fake_openai.script(tokens=["Hi", "!"])
    with ExitStack() as stack:
        stack.enter_context(celery_worker(log_dir, **server_env(fake_openai)))
        server = daphne(**server_env(fake_openai), CELERY_TASK_ALWAYS_EAGER="false")
        ws = await open_playground(server, user)
        try:
            await ws.send(json.dumps({"type": "run.start", "model": MODEL, "prompt": "Hello"}))
            run_id = (await recv(ws))["run_id"]
            frames = [await recv(ws)]
            while frames[-1]["type"] == "run.token":
                frames.append(await recv(ws))
        finally:
            await ws.close()

        completed = Activity.objects.filter(user=user, activity="run.completed").values("idempotency_key", "data")
        for _ in range(100):
            recorded = await database_sync_to_async(list)(completed.all())
            if recorded:
                break
            await asyncio.sleep(0.1)

    assert frames[-1]["type"] == "run.completed"
    assert "llm.run_completed_record" in (log_dir / "celery-worker.log").read_text()
    assert recorded == [
        {"idempotency_key": f"run:{run_id}", "data": {"provider": "openai", "model": "gpt-4o-mini", "output_tokens": 2}}
    ]
