"""The aiohttp transport under both SDKs: the real SDKs over real sockets to the fake servers."""

import asyncio
import gzip
import json
import time

import httpx2
import pytest
from aiohttp import web

from llm.providers.anthropic import AnthropicProvider
from llm.providers.base import GenerationRequest, Usage
from llm.providers.clients import http_transport
from llm.providers.openai import OpenAIProvider
from llm.providers.transport import AiohttpTransport
from tests.fakes import Script
from tests.llm.providers_support import closed_http_clients, collect, fast_retries  # noqa: F401  (fixtures)
from tests.support.processes import free_port

pytestmark = pytest.mark.usefixtures("fast_retries", "closed_http_clients")

OPENAI = GenerationRequest(model="gpt-4o-mini", prompt="Say hello to me", system="Be brief", max_tokens=32)
ANTHROPIC = GenerationRequest(model="claude-haiku-4-5", prompt="Say hello to me", system="Be brief", max_tokens=32)


@pytest.fixture(params=["openai", "anthropic"])
def sdk(request, fake_openai, fake_anthropic):
    """(provider, request, fake server) for each SDK."""
    if request.param == "openai":
        return OpenAIProvider(), OPENAI, fake_openai
    return AnthropicProvider(), ANTHROPIC, fake_anthropic


async def test_both_sdks_stream_through_the_aiohttp_transport(sdk):
    provider, request, fake = sdk
    fake.script(tokens=["Hel", "lo", " there"], delay=0.005)

    result = await collect(provider.stream(request))

    assert result.error is None
    assert result.deltas == ["Hel", "lo", " there"]
    assert result.usage == Usage(input_tokens=6, output_tokens=3)
    assert isinstance(http_transport(), AiohttpTransport)
    recorded = fake.last_request()
    assert await asyncio.to_thread(recorded.wait_done, 5)  # the server marks it after its last write
    assert recorded.completed


async def test_the_sdk_headers_reach_the_server_unchanged(fake_openai, fake_anthropic):
    await collect(OpenAIProvider().stream(OPENAI))
    await collect(AnthropicProvider().stream(ANTHROPIC))

    openai_headers = fake_openai.last_request().headers
    anthropic_headers = fake_anthropic.last_request().headers
    assert openai_headers["authorization"] == "Bearer sk-test"
    assert openai_headers["user-agent"].startswith("AsyncOpenAI/Python")
    assert openai_headers["content-type"] == "application/json"
    assert anthropic_headers["authorization"] == "Bearer sk-ant-test"
    assert anthropic_headers["anthropic-version"]
    assert anthropic_headers["user-agent"].startswith("AsyncAnthropic/Python")
    assert "aiohttp" not in json.dumps([openai_headers, anthropic_headers]).lower()


async def test_cancel_closes_the_upstream_stream_within_500_ms(sdk):
    provider, request, fake = sdk
    fake.script(tokens=[f"t{i}" for i in range(100)], delay=0.02)
    first_token = asyncio.Event()

    async def consume() -> None:
        async for _ in provider.stream(request):
            first_token.set()

    task = asyncio.create_task(consume())
    await first_token.wait()
    task.cancel()
    cancelled_at = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task

    recorded = fake.last_request()
    assert await asyncio.to_thread(recorded.wait_done, 5)
    assert time.monotonic() - cancelled_at < 0.5
    assert recorded.disconnected is True
    assert recorded.tokens_sent < 100


async def test_connection_refused_is_a_provider_error(sdk, settings):
    provider, request, _ = sdk
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"
    settings.ANTHROPIC_BASE_URL = f"http://127.0.0.1:{free_port()}"

    result = await collect(provider.stream(request))

    assert result.error.code == "provider_error"
    assert result.error.message.startswith("Could not reach the provider")


async def test_a_hanging_server_times_out_and_is_disconnected(sdk):
    provider, request, fake = sdk
    fake.script(hang=True)  # fast_retries: 0.5 s read timeout

    started = time.monotonic()
    result = await collect(provider.stream(request))

    assert result.error.code == "timeout"
    assert 0.5 <= time.monotonic() - started < 2.0
    recorded = fake.last_request()
    assert await asyncio.to_thread(recorded.wait_done, 5)
    assert recorded.disconnected is True


async def test_a_stall_midway_times_out_with_the_partial_output(sdk):
    provider, request, fake = sdk
    fake.script(tokens=["one", " two", " three"], stall_after=2)  # fast_retries: 0.5 s read timeout

    started = time.monotonic()
    result = await collect(provider.stream(request))

    assert result.deltas == ["one", " two"]
    assert result.error.code == "timeout"
    assert 0.5 <= time.monotonic() - started < 1.5
    assert len(fake.requests) == 1
    recorded = fake.last_request()
    assert await asyncio.to_thread(recorded.wait_done, 5)
    assert recorded.disconnected is True


async def test_a_connection_cut_midway_is_a_broken_stream(sdk):
    provider, request, fake = sdk
    fake.script(tokens=["one", " two", " three"], drop_after=2)

    result = await collect(provider.stream(request))

    assert result.deltas == ["one", " two"]
    assert result.error.code == "provider_error"
    assert result.error.message.startswith("The provider's stream broke off")


async def test_429_is_rate_limited_with_the_retry_after(sdk):
    provider, request, fake = sdk
    fake.script(status=429, retry_after=30)

    result = await collect(provider.stream(request))

    assert result.error.code == "rate_limited"
    assert result.error.retry_after == 30
    assert len(fake.requests) == 1  # longer than LLM_RETRY_MAX_WAIT_SECONDS: not waited for


async def test_500_is_retried_on_a_reused_connection_then_succeeds(sdk):
    provider, request, fake = sdk
    fake.enqueue(Script(status=500))
    fake.script(tokens=["ok"])

    result = await collect(provider.stream(request))

    assert result.error is None
    assert result.deltas == ["ok"]
    failed, succeeded = fake.requests
    assert failed.client_port == succeeded.client_port


async def test_persistent_500_is_a_provider_error(sdk):
    provider, request, fake = sdk
    fake.script(status=500)

    result = await collect(provider.stream(request))

    assert result.error.code == "provider_error"
    assert result.error.message.startswith("The provider failed (500)")
    assert len(fake.requests) == 3


async def test_finished_streams_keep_their_connections_alive(sdk):
    provider, request, fake = sdk

    await asyncio.gather(*(collect(provider.stream(request)) for _ in range(3)))
    await asyncio.gather(*(collect(provider.stream(request)) for _ in range(3)))

    first_ports = {r.client_port for r in fake.requests[:3]}
    second_ports = {r.client_port for r in fake.requests[3:]}
    assert len(first_ports) == 3  # concurrent streams, one connection each
    assert second_ports == first_ports  # all three reused


async def test_a_pooled_connection_idle_past_the_read_timeout_is_still_reused(sdk):
    provider, request, fake = sdk

    await collect(provider.stream(request))
    await asyncio.sleep(0.7)  # fast_retries: 0.5 s read timeout, which only bounds waits for an answer
    result = await collect(provider.stream(request))

    assert result.error is None
    first, second = fake.requests
    assert first.client_port == second.client_port


async def test_a_cancelled_stream_does_not_go_back_to_the_pool(fake_openai):
    fake_openai.script(tokens=[f"t{i}" for i in range(50)], delay=0.02)
    stream = OpenAIProvider().stream(OPENAI)
    await anext(stream)
    await stream.aclose()
    fake_openai.script(tokens=["next"])

    result = await collect(OpenAIProvider().stream(OPENAI))

    assert result.deltas == ["next"]
    cancelled, fresh = fake_openai.requests
    assert await asyncio.to_thread(cancelled.wait_done, 5)
    assert cancelled.disconnected is True
    assert fresh.client_port != cancelled.client_port


async def test_the_httpx_fallback_still_streams(fake_openai, settings):
    settings.LLM_HTTP_TRANSPORT = "httpx"
    fake_openai.script(tokens=["a", "b"])

    result = await collect(OpenAIProvider().stream(OPENAI))

    assert result.deltas == ["a", "b"]
    assert http_transport() is None
    assert not isinstance(OpenAIProvider()._client()._client._transport, AiohttpTransport)


async def test_a_compressed_body_is_handed_to_httpx_to_decode():
    """aiohttp passes the encoded bytes and the Content-Encoding up; httpx decodes them."""

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(b'{"hello": "world"}')
        return web.Response(body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    app = web.Application()
    app.router.add_get("/", gzipped)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    transport = AiohttpTransport()
    try:
        async with httpx2.AsyncClient(transport=transport) as client:
            response = await client.get(f"http://127.0.0.1:{port}/")
    finally:
        await runner.cleanup()

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"hello": "world"}
    assert response.http_version == "HTTP/1.1"
    assert response.reason_phrase == "OK"


async def test_transport_errors_are_httpx_errors():
    transport = AiohttpTransport()
    try:
        async with httpx2.AsyncClient(transport=transport, timeout=httpx2.Timeout(1.0)) as client:
            with pytest.raises(httpx2.ConnectError):
                await client.get(f"http://127.0.0.1:{free_port()}/")
    finally:
        await transport.aclose()


async def test_a_server_closing_before_answering_is_a_protocol_error_not_a_timeout():
    """A stale keep-alive connection must stay a retryable connection failure."""

    async def close_after_the_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(close_after_the_request, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = AiohttpTransport()
    try:
        async with httpx2.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx2.RemoteProtocolError):
                await client.get(f"http://127.0.0.1:{port}/")
    finally:
        server.close()
        await transport.aclose()
