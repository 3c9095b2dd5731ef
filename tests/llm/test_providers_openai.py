"""The OpenAI provider end to end: the real SDK over a socket to the fake OpenAI server."""

import asyncio
import json

import pytest

from llm.providers.base import GenerationRequest, Usage
from llm.providers.openai import OpenAIProvider
from llm.providers.tokens import estimate_tokens
from tests.fakes import Script
from tests.llm.providers_support import closed_http_clients, collect, fast_retries  # noqa: F401  (fixtures)
from tests.support.processes import free_port

pytestmark = pytest.mark.usefixtures("fast_retries", "closed_http_clients")

REQUEST = GenerationRequest(model="gpt-4o-mini", prompt="Say hello to me", system="Be brief", max_tokens=32)


async def test_streams_deltas_then_usage(fake_openai):
    fake_openai.script(tokens=["Hel", "lo", " there"])

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error is None
    assert result.deltas == ["Hel", "lo", " there"]
    assert result.usage == Usage(input_tokens=6, output_tokens=3)


async def test_sends_the_request_the_api_expects(fake_openai):
    request = GenerationRequest(
        model="gpt-4o-mini", prompt="Hi", system="Be brief", temperature=0.2, max_tokens=16, stop=("END",)
    )

    await collect(OpenAIProvider().stream(request))

    recorded = fake_openai.last_request()
    assert recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == "Bearer sk-test"
    assert recorded.body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}],
        "temperature": 0.2,
        "max_tokens": 16,
        "stream": True,
        "stream_options": {"include_usage": True},
        "stop": ["END"],
    }


@pytest.mark.parametrize(
    "request_",
    [
        GenerationRequest(
            model="gpt-4o-mini", prompt="Hi", system="Be brief", temperature=0.2, max_tokens=16, stop=("END",)
        ),
        GenerationRequest(model="gpt-4o-mini", prompt="Hi", temperature=1.0, max_tokens=300),
    ],
    ids=["system-and-stop", "prompt-only"],
)
async def test_the_request_on_the_wire_is_the_one_the_sdk_create_method_sends(fake_openai, request_):
    """The provider skips `chat.completions.create` (its params transform): same request, byte for byte."""
    await collect(OpenAIProvider().stream(request_))
    messages = ([{"role": "system", "content": request_.system}] if request_.system else []) + [
        {"role": "user", "content": request_.prompt}
    ]
    stop = {"stop": list(request_.stop)} if request_.stop else {}
    client = OpenAIProvider()._client()
    async with client.chat.completions.with_streaming_response.create(
        model=request_.model,
        messages=messages,
        temperature=request_.temperature,
        max_tokens=request_.max_tokens,
        stream=True,
        stream_options={"include_usage": True},
        **stop,
    ) as response:
        await response.http_response.aread()

    ours, sdks = fake_openai.requests
    assert (ours.method, ours.path) == (sdks.method, sdks.path) == ("POST", "/v1/chat/completions")
    assert list(ours.headers.items()) == list(sdks.headers.items())  # names, values and order
    assert ours.headers["authorization"] == "Bearer sk-test"
    assert json.dumps(ours.body) == json.dumps(sdks.body)  # keys in the same order too
    assert ours.body["stream_options"] == {"include_usage": True}
    assert (ours.body["max_tokens"], ours.body["temperature"]) == (request_.max_tokens, request_.temperature)


async def test_consecutive_streams_reuse_the_pooled_connection(fake_openai):
    await collect(OpenAIProvider().stream(REQUEST))
    await collect(OpenAIProvider().stream(REQUEST))

    first, second = fake_openai.requests
    # The client can read the final chunk before the server has marked its answer complete.
    assert await asyncio.to_thread(second.wait_done, 5)
    assert first.completed and second.completed
    assert first.client_port == second.client_port


async def test_server_without_usage_gets_an_estimate(fake_openai):
    fake_openai.script(tokens=["a", "b"], usage=False)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.usage == Usage(input_tokens=estimate_tokens("Say hello to me", "Be brief"), output_tokens=2)


async def test_rate_limited_after_retries(fake_openai):
    fake_openai.script(status=429, retry_after=0)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error.code == "rate_limited"
    assert result.error.message == "The provider is rate limiting requests: Rate limit reached for requests."
    assert result.deltas == []
    assert len(fake_openai.requests) == 3  # the first attempt and LLM_MAX_RETRIES=2 retries


async def test_retry_after_longer_than_max_wait_is_not_waited_for(fake_openai):
    fake_openai.script(status=429, retry_after=30)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error.code == "rate_limited"
    assert result.error.retry_after == 30
    assert len(fake_openai.requests) == 1


async def test_server_errors_are_retried_then_succeed(fake_openai):
    fake_openai.enqueue(Script(status=500), Script(status=503))
    fake_openai.script(tokens=["ok"])

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error is None
    assert result.deltas == ["ok"]
    assert len(fake_openai.requests) == 3


async def test_persistent_server_error_is_provider_error(fake_openai):
    fake_openai.script(status=500)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error.code == "provider_error"
    assert len(fake_openai.requests) == 3


async def test_bad_request_is_invalid_request_without_retry(fake_openai):
    fake_openai.script(status=400)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error.code == "invalid_request"
    assert len(fake_openai.requests) == 1


async def test_rejected_key_is_provider_error_without_retry(fake_openai):
    fake_openai.script(status=401)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error.code == "provider_error"
    assert result.error.message == "The provider refused our credentials."
    assert len(fake_openai.requests) == 1


async def test_hang_before_first_byte_times_out_and_disconnects(fake_openai):
    fake_openai.script(hang=True)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error.code == "timeout"
    assert len(fake_openai.requests) == 1
    recorded = fake_openai.last_request()
    assert recorded.wait_done(5)
    assert recorded.disconnected is True


async def test_stall_midway_times_out_with_the_partial_output(fake_openai):
    fake_openai.script(tokens=["one", " two", " three"], stall_after=2)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.deltas == ["one", " two"]
    assert result.error.code == "timeout"
    assert len(fake_openai.requests) == 1  # never retried once a token was out


async def test_error_inside_the_stream_fails_with_the_partial_output(fake_openai):
    fake_openai.script(tokens=["one", " two", " three"], error_after=2)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.deltas == ["one", " two"]
    assert result.usage is None
    assert result.error.code == "provider_error"
    assert result.error.message == (
        "The provider failed mid-stream (server_error): The server had an error while processing your request."
    )
    assert len(fake_openai.requests) == 1


async def test_connection_dropped_midway_fails_with_the_partial_output(fake_openai):
    fake_openai.script(tokens=["one", " two", " three"], drop_after=2)

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.deltas == ["one", " two"]
    assert result.error.code == "provider_error"
    assert result.error.message.startswith("The provider's stream broke off")
    assert len(fake_openai.requests) == 1


async def test_error_inside_the_stream_before_any_token_is_retried(fake_openai):
    fake_openai.enqueue(Script(error_after=0))
    fake_openai.script(tokens=["fine"])

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error is None
    assert result.deltas == ["fine"]
    assert len(fake_openai.requests) == 2


async def test_aclose_closes_the_upstream_response(fake_openai):
    fake_openai.script(tokens=[f"t{i}" for i in range(50)], delay=0.02)
    stream = OpenAIProvider().stream(REQUEST)

    first = await anext(stream)
    await stream.aclose()

    recorded = fake_openai.last_request()
    assert first == "t0"
    assert recorded.wait_done(5)
    assert recorded.disconnected is True
    assert recorded.tokens_sent < 50


async def test_cancelling_the_consuming_task_closes_the_upstream_response(fake_openai):
    fake_openai.script(tokens=[f"t{i}" for i in range(50)], delay=0.02)
    received: list[str] = []
    first_token = asyncio.Event()

    async def consume():
        async for item in OpenAIProvider().stream(REQUEST):
            received.append(item)
            first_token.set()

    task = asyncio.create_task(consume())
    await first_token.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    recorded = fake_openai.last_request()
    assert recorded.wait_done(5)
    assert recorded.disconnected is True
    assert recorded.tokens_sent < 50


async def test_unreachable_server_is_provider_error_after_retries(settings):
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"
    settings.OPENAI_API_KEY = "sk-test"

    result = await collect(OpenAIProvider().stream(REQUEST))

    assert result.error.code == "provider_error"
    assert result.error.message.startswith("Could not reach the provider")


async def test_unconfigured_provider_is_unavailable_and_fails(settings):
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_API_KEY = ""
    provider = OpenAIProvider()

    result = await collect(provider.stream(REQUEST))

    assert provider.available() is False
    assert result.error.code == "provider_error"
