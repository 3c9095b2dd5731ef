"""The official OpenAI SDK against a real daphne: PromptCraft as an OpenAI-compatible endpoint.

The upstream model is `openai:gpt-4o-mini` served by the fake OpenAI server, priced at one
credit per token (see test_playground_processes); the SDK's own retries are off, so one call is
one run.
"""

import asyncio

import httpx
import openai
import pytest
from channels.db import database_sync_to_async

from accounts.services import api_key_create, api_key_revoke
from llm.models import LLMRun
from llm.registry import ModelSpec
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.fakes.server import Script
from tests.llm.runs_support import run_ledger, set_credits
from tests.llm.test_playground_processes import MODEL, server_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Say hello"},
]


def new_key(user) -> str:
    return api_key_create(user=user, name="sdk").key


def sdk(server, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{server.http_url}/v1", api_key=key, max_retries=0, timeout=15)


def balance(user) -> int:
    user.refresh_from_db()
    return user.credits


async def settled_run(run_id: str, timeout: float = 10) -> LLMRun:
    """The run once it has ended (a cancelled stream settles just after the client left)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
        if run.status != "running" or asyncio.get_running_loop().time() > deadline:
            return run
        await asyncio.sleep(0.1)


async def xp_reasons(user, timeout: float = 10) -> list[str]:
    """The user's XP awards, once there are any (the run's award follows its settle)."""
    from game.models import XPEvent

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reasons = await database_sync_to_async(
            lambda: list(XPEvent.objects.filter(user=user).values_list("reason", flat=True))
        )()
        if reasons or asyncio.get_running_loop().time() > deadline:
            return reasons
        await asyncio.sleep(0.1)


async def test_a_completion_is_a_charged_run_in_the_history(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=["Hello", ",", " world", "!"])
    server = daphne(**server_env(fake_openai))
    key = await database_sync_to_async(new_key)(user)
    before = await database_sync_to_async(balance)(user)
    client = sdk(server, key)

    models = await client.models.list()
    completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=32, temperature=0)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        history = await http.get("/api/v1/llm/runs/", headers={"Authorization": f"Bearer {key}"})
    await client.close()

    assert [m.id for m in models.data] == [MODEL]
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Hello, world!"
    assert completion.choices[0].finish_reason == "stop"
    # The fake counts the words of the messages it was sent: "Be brief." and "Say hello".
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 4)
    assert completion.usage.total_tokens == 8
    upstream = fake_openai.last_request().body
    assert upstream["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert (upstream["max_tokens"], upstream["temperature"]) == (32, 0)
    run_id = completion.id.removeprefix("chatcmpl-")
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.output, run.input_tokens, run.output_tokens) == ("completed", "Hello, world!", 4, 4)
    assert run.cost_credits == 8
    assert await database_sync_to_async(balance)(user) == before - 8
    assert await database_sync_to_async(run_ledger)(run_id) == {
        "run.reserve": -run.reserved_credits,
        "run.refund": run.reserved_credits - 8,
    }
    assert history.status_code == 200
    assert [r["id"] for r in history.json()["results"]] == [run_id]
    assert key not in server.log()


async def test_a_stream_sends_chunks_then_the_usage(user, daphne, fake_openai):  # noqa: F811
    tokens = [f"t{i} " for i in range(24)]  # enough output for the run to earn XP (game.rules)
    fake_openai.script(tokens=tokens, delay=0.01)
    server = daphne(**server_env(fake_openai))
    client = sdk(server, await database_sync_to_async(new_key)(user))

    stream = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}, stop=["\n\n"]
    )
    chunks = [chunk async for chunk in stream]
    await client.close()

    assert all(c.object == "chat.completion.chunk" and c.model == MODEL for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(tokens)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (4, 24, 28)
    assert all(c.usage is None for c in chunks[:-1])
    assert fake_openai.last_request().body["stop"] == ["\n\n"]
    run = await settled_run(chunks[0].id.removeprefix("chatcmpl-"))
    assert (run.status, run.output, run.cost_credits) == ("completed", "".join(tokens), 28)
    assert "run.completed" in await xp_reasons(user)


async def test_a_stream_closed_early_cancels_the_run_and_charges_what_it_used(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=[f"w{i} " for i in range(200)], delay=0.05)
    server = daphne(**server_env(fake_openai))
    await database_sync_to_async(set_credits)(user, 1000)
    key = await database_sync_to_async(new_key)(user)
    client = sdk(server, key)

    stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, max_tokens=200)
    received = []
    async for chunk in stream:
        received.append(chunk)
        if sum(1 for c in received if c.choices and c.choices[0].delta.content) == 3:
            break
    await stream.close()
    await client.close()

    run = await settled_run(received[0].id.removeprefix("chatcmpl-"))
    assert run.status == "cancelled"
    produced = len(run.output.split())
    assert 3 <= produced < 200
    # No usage arrived: the estimated input plus one credit per token produced.
    assert run.cost_credits == ModelSpec.prompt_tokens_estimate("Say hello", "Be brief.") + produced
    assert await database_sync_to_async(balance)(user) == 1000 - run.cost_credits
    request = fake_openai.last_request()
    assert await asyncio.to_thread(request.wait_done, 5)
    assert request.disconnected and request.tokens_sent < 200

    # A non-streaming client that gives up waiting cancels its run too.
    impatient = openai.AsyncOpenAI(base_url=f"{server.http_url}/v1", api_key=key, max_retries=0, timeout=1)
    with pytest.raises(openai.APITimeoutError):
        await impatient.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=200)
    await impatient.close()
    request = fake_openai.last_request()
    assert await asyncio.to_thread(request.wait_done, 5)
    assert request.disconnected
    latest = await database_sync_to_async(lambda: LLMRun.objects.latest("created_at"))()
    run = await settled_run(str(latest.pk))
    assert run.status == "cancelled" and run.output


async def test_a_revoked_key_and_exhausted_credits_are_the_sdks_errors(user, daphne, fake_openai):  # noqa: F811
    server = daphne(**server_env(fake_openai))
    key = await database_sync_to_async(new_key)(user)
    client = sdk(server, key)
    await database_sync_to_async(set_credits)(user, 0)

    with pytest.raises(openai.RateLimitError) as no_credits:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    key_id = await database_sync_to_async(lambda: user.api_keys.get().pk)()
    await database_sync_to_async(api_key_revoke)(user=user, key_id=key_id)
    with pytest.raises(openai.AuthenticationError) as revoked:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    fresh = sdk(server, await database_sync_to_async(new_key)(user))
    with pytest.raises(openai.NotFoundError) as unknown:
        await fresh.chat.completions.create(model="openai:gpt-nope", messages=MESSAGES)
    await client.close()
    await fresh.close()

    assert no_credits.value.status_code == 429
    assert no_credits.value.code == "insufficient_quota"
    assert no_credits.value.type == "insufficient_quota"
    assert revoked.value.status_code == 401 and revoked.value.code == "invalid_api_key"
    assert unknown.value.code == "model_not_found"
    assert fake_openai.requests == []  # nothing reached the provider
    assert key not in server.log()


async def test_a_run_failing_upstream_is_an_error_status_or_an_error_event(user, daphne, fake_openai):  # noqa: F811
    server = daphne(**server_env(fake_openai))
    client = sdk(server, await database_sync_to_async(new_key)(user))
    before = await database_sync_to_async(balance)(user)

    fake_openai.enqueue(Script(status=500))
    with pytest.raises(openai.InternalServerError) as failed:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    fake_openai.enqueue(Script(tokens=["a ", "b ", "c "], error_after=2))
    stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(openai.APIError) as broken:
        async for chunk in stream:
            received.append(chunk)
    await client.close()

    assert failed.value.status_code == 502
    assert (failed.value.type, failed.value.code) == ("server_error", "provider_error")
    assert broken.value.code == "provider_error"
    assert "".join(c.choices[0].delta.content or "" for c in received if c.choices) == "a b "
    runs = await database_sync_to_async(lambda: list(LLMRun.objects.order_by("created_at")))()
    assert [(r.status, r.error_code, r.output) for r in runs] == [
        ("failed", "provider_error", ""),
        ("failed", "provider_error", "a b "),
    ]
    # Nothing produced costs nothing; the broken stream pays for what it produced.
    assert runs[0].cost_credits == 0
    assert await database_sync_to_async(balance)(user) == before - runs[1].cost_credits
