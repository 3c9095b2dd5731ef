"""The httpx2 transport under both SDKs' `http_client=`: requests sent and bodies read by aiohttp.

httpx2's own stack (anyio, h11, httpcore2 and several generator layers) runs once per network
read, and a paced LLM stream is one read per token. aiohttp parses HTTP in C and each body read
hands over everything that has arrived, which keeps the CPU per streamed token within what many
concurrent streams need (docs/benchmarks.md). The SDKs still do auth, headers, the request and
its status errors; aiohttp's failures become the httpx2 exceptions the SDKs and providers expect.
Requests that an environment proxy applies to never get here: httpx2 routes them to its own.
"""

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx2

# Hundreds of concurrent streams, each holding one connection for its whole answer.
MAX_CONNECTIONS = 1000
# What the SDKs' own pools use: an idle connection older than this is not reused.
KEEPALIVE_SECONDS = 5.0

_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
# aiohttp's failures as httpx2's, most specific first (aiohttp's classes nest); others are read or write errors.
_ERRORS = [
    (aiohttp.ConnectionTimeoutError, httpx2.ConnectTimeout),
    (asyncio.TimeoutError, httpx2.ReadTimeout),  # aiohttp's SocketTimeoutError: no byte for sock_read seconds
    (aiohttp.ClientConnectorError, httpx2.ConnectError),
    # Closed before or while answering (a stale keep-alive connection, a cut body): retryable, not a timeout.
    (
        (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError),
        httpx2.RemoteProtocolError,
    ),
    (aiohttp.InvalidURL, httpx2.UnsupportedProtocol),
]


def _httpx_error(exc: BaseException, request: httpx2.Request, *, reading: bool) -> httpx2.TransportError:
    default = httpx2.ReadError if reading else httpx2.WriteError
    kind = next((httpx_kind for kinds, httpx_kind in _ERRORS if isinstance(exc, kinds)), default)
    return kind(str(exc) or type(exc).__name__, request=request)


class _ResponseBody(httpx2.AsyncByteStream):
    """A response body as aiohttp buffers it: each read returns all the bytes that have arrived."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx2.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await self._response.content.readany():
                yield chunk
        except _FAILURES as exc:
            raise _httpx_error(exc, self._request, reading=True) from exc

    async def aclose(self) -> None:
        if self._response.content.at_eof():
            self._response.release()  # a complete answer: the connection goes back to the pool
        else:
            # An unfinished body (a cancelled run) cannot be reused: closing the connection at once
            # is what stops the provider generating.
            self._response.close()
            await asyncio.sleep(0)  # asyncio closes the socket in a callback: let the provider see it now


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """Sends httpx2 requests through one aiohttp session; build and use it on one event loop."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS),
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx2 keeps the cookies
                auto_decompress=False,  # httpx2 decodes a content encoding itself, from the headers passed up
            )
        timeout = request.extensions.get("timeout") or {}
        connect, pool = timeout.get("connect"), timeout.get("pool")
        try:
            response = await self._session.request(
                request.method,
                str(request.url),
                # httpx2's headers as they are (Host, User-Agent, Accept-Encoding included), so aiohttp adds none.
                headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw],
                data=await request.aread() or None,
                allow_redirects=False,  # httpx2 follows redirects itself
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    # aiohttp's `connect` covers waiting for a pooled connection plus opening one.
                    connect=None if connect is None or pool is None else connect + pool,
                    sock_connect=connect,
                    sock_read=timeout.get("read"),  # every wait for bytes, the head's and the body's
                ),
            )
        except _FAILURES as exc:
            await asyncio.sleep(0)  # let asyncio close the socket aiohttp dropped before the SDK reports
            raise _httpx_error(exc, request, reading=False) from exc
        return httpx2.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_ResponseBody(response, request),
            extensions={
                "http_version": f"HTTP/{response.version.major}.{response.version.minor}".encode(),
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
