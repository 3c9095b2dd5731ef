"""The local provider: prompts, calls and slot queues (fast, on fakes) and the real models (slow)."""

import asyncio
import json
import threading
import time

import pytest

from llm.providers.base import GenerationRequest, Usage
from llm.providers.local.models import GEMMA, MODELS, SMOLLM2, chat_messages, completion_prompt
from llm.providers.local.pool import ModelPool, load
from llm.providers.local.provider import POOLS, LocalProvider
from tests.llm.providers_support import collect

GEMMA_NAME, SMOLLM2_NAME = "gemma-3-270m", "smollm2-135m-instruct"


async def _until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


class FakeLlama:
    """Records the generation calls and streams `pieces` the way llama-cpp-python's generators do."""

    # Renders like a real template: role markers around each message, then the assistant's turn.
    metadata = {
        "tokenizer.chat_template": "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}<assistant>"
    }

    def __init__(self, pieces: list[str], n_ctx: int = 2048, gate: threading.Event | None = None):
        self.pieces, self._n_ctx, self.gate = pieces, n_ctx, gate
        self.calls: list[tuple[str, dict]] = []
        self.closed_after: int | None = None

    def n_ctx(self) -> int:
        return self._n_ctx

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return [0] * (len(text.split()) + add_bos)  # one token per word, plus BOS

    def detokenize(self, tokens: list[int], special: bool = False) -> bytes:
        return b"</s>"

    def token_eos(self) -> int:
        return 2

    def token_bos(self) -> int:
        return 1

    def _stream(self, chunks: list[dict]):
        sent = 0
        try:
            for chunk in chunks:
                yield chunk
                sent += 1
                if self.gate is not None:
                    self.gate.wait(5)  # generation goes on only when the test says so
        finally:
            self.closed_after = sent

    def create_completion(self, **kwargs):
        self.calls.append(("completion", kwargs))
        return self._stream([{"choices": [{"text": piece}]} for piece in [*self.pieces, ""]])

    def create_chat_completion(self, **kwargs):
        self.calls.append(("chat", kwargs))
        role = {"choices": [{"delta": {"role": "assistant"}}]}
        return self._stream([role, *({"choices": [{"delta": {"content": p}}]} for p in self.pieces)])


def provider_with(model_name: str, llm: FakeLlama) -> LocalProvider:
    """A provider whose pool for `model_name` holds `llm` (loaded already, so nothing is read from disk)."""
    pool = ModelPool(MODELS[model_name])
    pool.checkin(llm)
    return LocalProvider({model_name: pool})


def test_the_base_model_gets_the_prompt_as_written():
    frame = "Question: What is the capital of Italy?\nAnswer:"

    assert completion_prompt(frame) == frame
    assert completion_prompt(frame, "  Answer tersely. ") == f"Answer tersely.\n\n{frame}"
    assert completion_prompt(frame, "   ") == frame


def test_the_chat_model_gets_a_system_message_only_when_there_is_one():
    assert chat_messages("Hi") == [{"role": "user", "content": "Hi"}]
    assert chat_messages("Hi", "Be brief.") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]


async def test_gemma_is_called_with_a_completion_of_the_prompt_as_written():
    llm = FakeLlama([" Rome", ".", "\n"])
    request = GenerationRequest(
        model=GEMMA_NAME, prompt="Question: What is the capital of Italy?\nAnswer:", temperature=0.0, max_tokens=5
    )

    result = await collect(provider_with(GEMMA_NAME, llm).stream(request))

    assert llm.calls == [
        (
            "completion",
            {
                "prompt": "Question: What is the capital of Italy?\nAnswer:",
                "temperature": 0.0,
                "max_tokens": 5,
                "repeat_penalty": 1.1,
                "stop": ["<end_of_turn>"],
                "stream": True,
            },
        )
    ]
    assert result.error is None
    assert result.deltas == ["Rome", ".", "\n"]  # the separating space before the first word is dropped
    assert result.usage == Usage(input_tokens=9, output_tokens=3)  # 8 words + BOS


async def test_smollm2_is_called_with_chat_messages_through_its_template():
    llm = FakeLlama(["The capital", " of France is Paris."])
    request = GenerationRequest(
        model=SMOLLM2_NAME, prompt="What is the capital of France?", system="Be brief.", temperature=0.0, max_tokens=9
    )

    result = await collect(provider_with(SMOLLM2_NAME, llm).stream(request))

    assert llm.calls == [
        (
            "chat",
            {
                "messages": chat_messages("What is the capital of France?", "Be brief."),
                "temperature": 0.0,
                "max_tokens": 9,
                "repeat_penalty": 1.0,
                "stop": [],
                "stream": True,
            },
        )
    ]
    assert result.text == "The capital of France is Paris."
    # "<system>Be brief.<user>What is the capital of France?<assistant>": 7 words, no extra BOS.
    assert result.usage == Usage(input_tokens=7, output_tokens=2)


async def test_a_prompt_longer_than_the_context_is_an_invalid_request():
    llm = FakeLlama(["never"], n_ctx=8)
    request = GenerationRequest(model=SMOLLM2_NAME, prompt="one two three four five", max_tokens=4)

    result = await collect(provider_with(SMOLLM2_NAME, llm).stream(request))

    assert result.error.code == "invalid_request"
    assert "too long" in result.error.message
    assert llm.calls == []


async def test_closing_the_stream_stops_llama_cpps_generator_at_the_next_piece():
    gate = threading.Event()
    llm = FakeLlama(["a", "b", "c", "d"], gate=gate)
    provider = provider_with(GEMMA_NAME, llm)
    stream = provider.stream(GenerationRequest(model=GEMMA_NAME, prompt="Count:", max_tokens=4))

    assert await anext(stream) == "a"
    await stream.aclose()
    gate.set()

    assert await _until(lambda: provider.pools[GEMMA_NAME].active == 0)
    assert llm.closed_after == 1  # closed after the piece the stop was seen at, not drained


async def test_unknown_local_model_is_invalid_request():
    result = await collect(LocalProvider().stream(GenerationRequest(model="llama-70b", prompt="Hi")))

    assert result.error.code == "invalid_request"


def test_each_model_has_its_own_pool():
    assert list(MODELS) == [SMOLLM2_NAME, GEMMA_NAME]
    assert {name: pool.model for name, pool in POOLS.items()} == {SMOLLM2_NAME: SMOLLM2, GEMMA_NAME: GEMMA}
    assert POOLS[SMOLLM2_NAME] is not POOLS[GEMMA_NAME]


async def test_a_busy_model_does_not_queue_the_other(settings):
    settings.LLM_LOCAL_CONCURRENCY = 1
    gemma, smollm2 = ModelPool(GEMMA), ModelPool(SMOLLM2)
    queued: list[int] = []
    await gemma.acquire(None)

    await asyncio.wait_for(smollm2.acquire(queued.append), timeout=1)

    assert queued == []
    assert (gemma.active, smollm2.active) == (1, 1)


async def test_pool_queues_beyond_its_limit_and_says_so(settings):
    settings.LLM_LOCAL_CONCURRENCY = 1
    pool = ModelPool(GEMMA)
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
    pool = ModelPool(GEMMA)
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
    pool = ModelPool(GEMMA)
    queued: list[int] = []

    await pool.acquire(queued.append)
    await pool.acquire(queued.append)

    assert queued == []
    assert pool.active == 2


async def generate(model: str, prompt: str, *, max_tokens: int, system: str | None = None):
    request = GenerationRequest(model=model, prompt=prompt, system=system, temperature=0.0, max_tokens=max_tokens)
    result = await collect(LocalProvider().stream(request))
    assert result.error is None, result.error
    assert isinstance(result.usage, Usage)
    assert 1 <= result.usage.output_tokens <= max_tokens
    return result


@pytest.mark.slow
async def test_smollm2_answers_a_question():
    # With no system message the template's own default applies, under which this small model
    # answers this exact question with a list of French words at temperature 0.
    result = await generate(
        SMOLLM2_NAME, "What is the capital of France?", system="You are a helpful assistant.", max_tokens=12
    )

    assert "Paris" in result.text
    assert result.usage.input_tokens > 10  # the template's role markers are counted
    assert POOLS[SMOLLM2_NAME].loaded == 1


@pytest.mark.slow
async def test_smollm2_classifies_a_negative_review():
    prompt = (
        "Classify the sentiment of this review as positive or negative.\n\n"
        "Review: Terrible. It broke after one day and support never answered."
    )

    result = await generate(SMOLLM2_NAME, prompt, max_tokens=12)

    assert "negative" in result.text.lower()
    assert "positive" not in result.text.lower()


@pytest.mark.slow
async def test_smollm2_extracts_json():
    prompt = (
        'Extract the name and age from this text as JSON with keys "name" and "age". Reply with only the JSON.\n\n'
        "Text: Maria is 34 years old."
    )

    result = await generate(SMOLLM2_NAME, prompt, max_tokens=24)

    assert json.loads(result.text) == {"name": "Maria", "age": 34}


@pytest.mark.slow
def test_smollm2_prompt_tokens_are_counted_as_llama_cpp_counts_them():
    from llm.providers.local.models import _chat_prompt_tokens

    llm = load(SMOLLM2)
    try:
        for messages in (chat_messages("Hi"), chat_messages("What is 2 + 2?", "Answer with a number.")):
            usage = llm.create_chat_completion(messages=messages, temperature=0.0, max_tokens=1)["usage"]
            assert _chat_prompt_tokens(llm, messages) == usage["prompt_tokens"]
    finally:
        llm.close()


@pytest.mark.slow
async def test_gemma_continues_a_question_answer_frame_the_learner_wrote():
    italy = await generate(GEMMA_NAME, "Question: What is the capital of Italy?\nAnswer:", max_tokens=6)
    france = await generate(GEMMA_NAME, "Question: What is the capital of France?\nAnswer:", max_tokens=4)

    assert italy.text.strip() != ""
    assert "Paris" in france.text
    assert POOLS[GEMMA_NAME].loaded == 1  # loaded once per process, reused by every generation


@pytest.mark.slow
async def test_gemma_stops_at_max_tokens():
    result = await generate(GEMMA_NAME, "Once upon a time, a dragon", max_tokens=3)

    assert result.usage.output_tokens == 3


@pytest.mark.slow
async def test_cancel_stops_the_generation_and_frees_the_slot_for_the_queued_one(settings):
    settings.LLM_LOCAL_CONCURRENCY = 1
    long_request = GenerationRequest(
        model=GEMMA_NAME, prompt="Write a long story about a dragon.", temperature=0.0, max_tokens=400
    )
    short_request = GenerationRequest(
        model=GEMMA_NAME, prompt="The capital of France is", temperature=0.0, max_tokens=4
    )
    provider = LocalProvider()
    pool = POOLS[GEMMA_NAME]
    positions: list[int] = []
    first = provider.stream(long_request)
    assert isinstance(await anext(first), str)

    second = asyncio.create_task(collect(provider.stream(short_request, on_queued=positions.append)))
    await _until(lambda: pool.waiting == 1)
    await first.aclose()
    result = await second

    assert positions == [1]
    assert result.error is None
    assert result.usage.output_tokens <= 4
    assert await _until(lambda: pool.active == 0)
