"""The Anthropic provider end to end: the real SDK over a socket to the fake Messages server."""

import asyncio

import pytest

from llm.providers.anthropic import AnthropicProvider
from llm.providers.base import GenerationRequest, Usage
from tests.fakes import Script
from tests.llm.providers_support import closed_http_clients, collect, fast_retries  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("fast_retries", "closed_http_clients")

REQUEST = GenerationRequest(model="claude-haiku-4-5", prompt="Say hello to me", system="Be brief", max_tokens=32)


async def test_streams_deltas_then_usage(fake_anthropic):
    fake_anthropic.script(tokens=["Hel", "lo", " there"])

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.error is None
    assert result.deltas == ["Hel", "lo", " there"]
    assert result.usage == Usage(input_tokens=6, output_tokens=3)


async def test_sends_the_request_the_api_expects(fake_anthropic):
    request = GenerationRequest(
        model="claude-haiku-4-5", prompt="Hi", system="Be brief", temperature=0.2, max_tokens=16, stop=("END",)
    )

    await collect(AnthropicProvider().stream(request))

    recorded = fake_anthropic.last_request()
    assert recorded.path == "/v1/messages"
    assert recorded.headers["authorization"] == "Bearer sk-ant-test"
    assert recorded.body == {
        "model": "claude-haiku-4-5",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
        "system": "Be brief",
        "stop_sequences": ["END"],
    }


async def test_consecutive_streams_reuse_the_pooled_connection(fake_anthropic):
    await collect(AnthropicProvider().stream(REQUEST))
    await collect(AnthropicProvider().stream(REQUEST))

    first, second = fake_anthropic.requests
    assert first.client_port == second.client_port


async def test_rate_limited_after_retries(fake_anthropic):
    fake_anthropic.script(status=429, retry_after=0)

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.error.code == "rate_limited"
    assert (
        result.error.message
        == "The provider is rate limiting requests: Number of requests has exceeded your rate limit."
    )
    assert len(fake_anthropic.requests) == 3


async def test_overloaded_answers_are_retried_then_succeed(fake_anthropic):
    fake_anthropic.enqueue(Script(status=529), Script(status=500))
    fake_anthropic.script(tokens=["ok"])

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.error is None
    assert result.deltas == ["ok"]
    assert len(fake_anthropic.requests) == 3


async def test_persistent_server_error_is_provider_error(fake_anthropic):
    fake_anthropic.script(status=500)

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.error.code == "provider_error"
    assert len(fake_anthropic.requests) == 3


async def test_unknown_model_is_invalid_request_without_retry(fake_anthropic):
    fake_anthropic.script(status=404)

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.error.code == "invalid_request"
    assert len(fake_anthropic.requests) == 1


async def test_hang_before_first_byte_times_out_and_disconnects(fake_anthropic):
    fake_anthropic.script(hang=True)

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.error.code == "timeout"
    recorded = fake_anthropic.last_request()
    assert recorded.wait_done(5)
    assert recorded.disconnected is True


async def test_overloaded_error_event_midway_fails_with_the_partial_output(fake_anthropic):
    fake_anthropic.script(tokens=["one", " two", " three"], error_after=2)

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.deltas == ["one", " two"]
    assert result.usage is None
    assert result.error.code == "provider_error"
    assert result.error.message == "The provider failed mid-stream (overloaded_error): Overloaded"
    assert len(fake_anthropic.requests) == 1


async def test_connection_dropped_midway_fails_with_the_partial_output(fake_anthropic):
    fake_anthropic.script(tokens=["one", " two", " three"], drop_after=2)

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.deltas == ["one", " two"]
    assert result.error.code == "provider_error"
    assert result.error.message.startswith("The provider's stream broke off")
    assert len(fake_anthropic.requests) == 1


async def test_error_event_before_any_token_is_retried(fake_anthropic):
    fake_anthropic.enqueue(Script(error_after=0))
    fake_anthropic.script(tokens=["fine"])

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.error is None
    assert result.deltas == ["fine"]
    assert len(fake_anthropic.requests) == 2


async def test_stall_midway_times_out_with_the_partial_output(fake_anthropic):
    fake_anthropic.script(tokens=["one", " two", " three"], stall_after=1)

    result = await collect(AnthropicProvider().stream(REQUEST))

    assert result.deltas == ["one"]
    assert result.error.code == "timeout"


async def test_cancelling_the_consuming_task_closes_the_upstream_response(fake_anthropic):
    fake_anthropic.script(tokens=[f"t{i}" for i in range(50)], delay=0.02)
    first_token = asyncio.Event()

    async def consume():
        async for _item in AnthropicProvider().stream(REQUEST):
            first_token.set()

    task = asyncio.create_task(consume())
    await first_token.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    recorded = fake_anthropic.last_request()
    assert recorded.wait_done(5)
    assert recorded.disconnected is True
    assert recorded.tokens_sent < 50


async def test_aclose_closes_the_upstream_response(fake_anthropic):
    fake_anthropic.script(tokens=[f"t{i}" for i in range(50)], delay=0.02)
    stream = AnthropicProvider().stream(REQUEST)

    assert await anext(stream) == "t0"
    await stream.aclose()

    recorded = fake_anthropic.last_request()
    assert recorded.wait_done(5)
    assert recorded.disconnected is True


async def test_unconfigured_provider_is_unavailable_and_fails(settings):
    settings.ANTHROPIC_API_KEY = ""
    provider = AnthropicProvider()

    result = await collect(provider.stream(REQUEST))

    assert provider.available() is False
    assert result.error.code == "provider_error"
