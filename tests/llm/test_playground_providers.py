"""/ws/playground/ through the real providers: the SDKs against the fake servers, and the local model."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from llm.catalogue import builtin_models
from llm.models import LLMRun
from tests.fakes import Script
from tests.fakes.fixtures import fake_anthropic, fake_openai  # noqa: F401
from tests.llm.providers_support import closed_http_clients  # noqa: F401  (fixture)
from tests.llm.runs_support import joined_tokens, playground, receive_until_end, run_ledger, set_credits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closed_http_clients")]


def one_credit_per_token(model_id: str, max_output_tokens: int = 256) -> dict:
    return {
        "id": model_id,
        "display_name": model_id,
        "context_limit": 100_000,
        "max_output_tokens": max_output_tokens,
        "default_params": {"temperature": 0.7, "max_tokens": 64},
        "credits_per_1k_input": 1000,
        "credits_per_1k_output": 1000,
    }


@pytest.fixture(autouse=True)
def priced_models(settings):
    catalogue = builtin_models(local_context=settings.LLM_LOCAL_CONTEXT)
    local = [spec for spec in catalogue if spec["id"].startswith("local:")]
    settings.LLM_MODELS = [
        *local,
        one_credit_per_token("openai:gpt-4o-mini"),
        one_credit_per_token("anthropic:claude-haiku-4-5"),
    ]
    settings.LLM_MAX_RETRIES = 0


async def run_to_end(user, message: dict) -> tuple[str, list[dict]]:
    ws = await playground(user)
    try:
        await ws.send_json_to({"type": "run.start", "request_id": "r1", **message})
        started = await ws.receive_json_from(timeout=10)
        assert started["type"] == "run.started", started
        frames = await receive_until_end(ws, started["run_id"], timeout=30)
    finally:
        await ws.disconnect()
    return started["run_id"], frames


@pytest.mark.parametrize("model", ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"])
async def test_a_run_streams_end_to_end_through_the_sdk(user, model, fake_openai, fake_anthropic):  # noqa: F811
    fake = fake_openai if model.startswith("openai") else fake_anthropic
    fake.script(tokens=["The", " answer", " is", " 42", "."], delay=0.01)

    run_id, frames = await run_to_end(user, {"model": model, "prompt": "What is the answer?"})

    seqs, text = joined_tokens(frames, run_id)
    assert text == "The answer is 42."
    assert seqs == list(range(len(seqs)))
    completed = frames[-1]
    assert completed["type"] == "run.completed"
    assert completed["usage"] == {"input_tokens": 4, "output_tokens": 5}
    assert completed["cost_credits"] == 9
    # "What is the answer?" is 19 bytes: ceil(19 / 3) + 16 = 23 estimated input, + 64 max_tokens.
    assert await database_sync_to_async(run_ledger)(run_id) == {"run.reserve": -87, "run.refund": 78}
    recorded = fake.last_request()
    assert await asyncio.to_thread(recorded.wait_done, 5)  # marked after the server's last write
    assert recorded.completed


@pytest.mark.parametrize("model", ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"])
async def test_cancel_closes_the_upstream_request(user, model, fake_openai, fake_anthropic):  # noqa: F811
    fake = fake_openai if model.startswith("openai") else fake_anthropic
    fake.script(tokens=[f"w{i} " for i in range(100)], delay=0.05)
    await database_sync_to_async(set_credits)(user, 1000)
    ws = await playground(user)
    try:
        await ws.send_json_to({"type": "run.start", "model": model, "prompt": "Ramble", "params": {"max_tokens": 100}})
        run_id = (await ws.receive_json_from(timeout=10))["run_id"]
        first = await ws.receive_json_from(timeout=10)
        await ws.send_json_to({"type": "run.cancel", "run_id": run_id})
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    request = fake.last_request()
    assert await asyncio.to_thread(request.wait_done, 5)
    assert request.disconnected
    assert not request.completed
    assert request.tokens_sent < 100
    _, text = joined_tokens([first, *frames], run_id)
    assert frames[-1]["type"] == "run.cancelled"
    assert frames[-1]["output"] == text
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert run.status == "cancelled"


@pytest.mark.parametrize(("status", "code"), [(429, "rate_limited"), (500, "provider_error"), (400, "invalid_request")])
async def test_an_error_before_the_first_token_fails_the_run_and_refunds_it_all(user, status, code, fake_openai):  # noqa: F811
    fake_openai.script(status=status)

    run_id, frames = await run_to_end(user, {"model": "openai:gpt-4o-mini", "prompt": "Hello"})

    assert [f["type"] for f in frames] == ["run.failed"]
    assert frames[0]["error"]["code"] == code
    ledger = await database_sync_to_async(run_ledger)(run_id)
    assert ledger["run.reserve"] + ledger["run.refund"] == 0
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.error_code, run.cost_credits, run.output) == ("failed", code, 0, "")


@pytest.mark.parametrize("model", ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"])
async def test_an_error_midway_fails_with_the_partial_output_and_charges_for_it(
    user,
    model,
    fake_openai,  # noqa: F811
    fake_anthropic,  # noqa: F811
):
    fake = fake_openai if model.startswith("openai") else fake_anthropic
    fake.enqueue(Script(tokens=["one", " two", " three", " four"], error_after=2))

    run_id, frames = await run_to_end(user, {"model": model, "prompt": "Count"})

    _, text = joined_tokens(frames, run_id)
    failed = frames[-1]
    assert text == "one two"
    assert failed["type"] == "run.failed"
    assert failed["output"] == "one two"
    assert failed["error"]["code"] in {"provider_error", "rate_limited"}
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    # "Count": ceil(5 / 3) + 16 = 18 estimated input tokens, plus the 2 produced.
    assert (run.status, run.output, run.cost_credits) == ("failed", "one two", 20)
    assert await database_sync_to_async(run_ledger)(run_id) == {"run.reserve": -(18 + 64), "run.refund": 64 - 2}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "prompt"),
    [
        ("local:smollm2-135m-instruct", "What is the capital of Japan?"),
        # The frame the learner wrote is the whole prompt: the base model answers after it.
        ("local:gemma-3-270m", "Question: What is the capital of Italy?\nAnswer:"),
    ],
)
async def test_the_local_models_stream_a_real_answer(user, model, prompt):
    from llm.providers import get_provider

    if not get_provider("local").available():
        pytest.fail("the local models are not installed (requirements.txt, requirements-nodeps.txt)")

    run_id, frames = await run_to_end(
        user, {"model": model, "prompt": prompt, "params": {"max_tokens": 4, "temperature": 0}}
    )

    seqs, text = joined_tokens(frames, run_id)
    completed = frames[-1]
    assert completed["type"] == "run.completed", completed
    assert seqs == list(range(len(seqs)))
    assert completed["output"] == text
    assert text.strip() != ""
    assert 1 <= completed["usage"]["output_tokens"] <= 4
    assert completed["cost_credits"] >= 1
