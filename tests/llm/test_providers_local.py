"""The local provider: its slot queue (fast) and the real Gemma 3 270M model (slow)."""

import asyncio
import time

import pytest

from llm.providers.base import GenerationRequest, Usage
from llm.providers.local import LocalProvider, ModelPool, _pool, prompt_format
from tests.llm.providers_support import collect


async def _until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def test_prompt_format_frames_a_question_for_a_base_model():
    assert prompt_format("  What is 2+2? ", "Answer tersely.") == "Answer tersely.\n\nQuestion: What is 2+2?\nAnswer:"
    assert prompt_format("Hi") == "Question: Hi\nAnswer:"


async def test_unknown_local_model_is_invalid_request():
    result = await collect(LocalProvider().stream(GenerationRequest(model="llama-70b", prompt="Hi")))

    assert result.error.code == "invalid_request"


async def test_pool_queues_beyond_its_limit_and_says_so(settings):
    settings.LLM_LOCAL_CONCURRENCY = 1
    pool = ModelPool()
    positions: list[int] = []
    await pool.acquire(None)

    waiting = asyncio.create_task(pool.acquire(positions.append))
    await _until(lambda: pool.waiting == 1)
    assert positions == [1]
    assert not waiting.done()

    pool.release()
    await waiting
    assert pool.active == 1
    pool.release()
    assert pool.active == 0


async def test_pool_passes_the_slot_on_when_a_queued_caller_gives_up(settings):
    settings.LLM_LOCAL_CONCURRENCY = 1
    pool = ModelPool()
    positions: list[int] = []
    await pool.acquire(None)
    quitter = asyncio.create_task(pool.acquire(None))
    patient = asyncio.create_task(pool.acquire(positions.append))
    await _until(lambda: pool.waiting == 2)

    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    pool.release()
    await patient

    assert positions == [2]
    assert pool.active == 1
    assert pool.waiting == 0


async def test_pool_allows_the_configured_concurrency(settings):
    settings.LLM_LOCAL_CONCURRENCY = 2
    pool = ModelPool()
    queued: list[int] = []

    await pool.acquire(queued.append)
    await pool.acquire(queued.append)

    assert queued == []
    assert pool.active == 2


@pytest.mark.slow
async def test_local_model_answers_for_real():
    request = GenerationRequest(
        model="gemma-3-270m", prompt="What is the capital of France?", temperature=0.0, max_tokens=8
    )

    result = await collect(LocalProvider().stream(request))

    assert result.error is None
    assert "Paris" in result.text
    assert isinstance(result.usage, Usage)
    assert result.usage.input_tokens > 5
    assert 1 <= result.usage.output_tokens <= 8


@pytest.mark.slow
async def test_local_model_stops_at_max_tokens():
    request = GenerationRequest(
        model="gemma-3-270m", prompt="Write a long story about a dragon.", temperature=0.0, max_tokens=3
    )

    result = await collect(LocalProvider().stream(request))

    assert result.error is None
    assert result.usage.output_tokens == 3
    assert _pool.loaded == 1  # loaded once per process, reused by every generation


@pytest.mark.slow
async def test_cancel_stops_the_generation_and_frees_the_slot_for_the_queued_one(settings):
    settings.LLM_LOCAL_CONCURRENCY = 1
    long_request = GenerationRequest(
        model="gemma-3-270m", prompt="Write a long story about a dragon.", temperature=0.0, max_tokens=400
    )
    short_request = GenerationRequest(
        model="gemma-3-270m", prompt="What is the capital of France?", temperature=0.0, max_tokens=4
    )
    provider = LocalProvider()
    positions: list[int] = []
    first = provider.stream(long_request)
    assert isinstance(await anext(first), str)

    second = asyncio.create_task(collect(provider.stream(short_request, on_queued=positions.append)))
    await _until(lambda: _pool.waiting == 1)
    await first.aclose()
    result = await second

    assert positions == [1]
    assert result.error is None
    assert result.usage.output_tokens <= 4
    assert await _until(lambda: _pool.active == 0)
