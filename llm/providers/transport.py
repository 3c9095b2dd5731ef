"""An httpx transport for the SDKs that reads the socket through aiohttp, in bulk.

The SDKs keep doing auth, config, headers, the request and the HTTP status errors through their
httpx client; only the transport under it changes. httpx's own stack (anyio stream, h11,
httpcore, several generator layers) runs once per network read, and a paced LLM stream is one
network read per token. aiohttp parses HTTP with llhttp (C) and its body reader hands over
everything buffered in one read: the provider's CPU per paced token about halves (README).

One `aiohttp.ClientSession` (with its keep-alive pool) per event loop: `AiohttpTransport` is built
per loop (see `clients.http_transport`) and opens its session on first use inside that loop.
aiohttp's errors become the httpx exceptions the SDKs expect, so they still raise
`APIConnectionError`/`APITimeoutError`, and a stream broken mid-body raises an httpx error as before.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

# Hundreds of concurrent streams, each holding one connection for its whole answer.
MAX_CONNECTIONS = 1000
# What the SDKs' own pools use: an idle connection older than this is not reused.
KEEPALIVE_SECONDS = 5.0
# Longest pause between two read-timeout checks (see ReadDeadlines).
MAX_CHECK_SECONDS = 1.0

_Proxy = tuple[URL, aiohttp.BasicAuth | None] | None


def _timeout(request: httpx2.Request) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts from httpx's per-request `timeout` extension (set by the SDK)."""
    limits = request.extensions.get("timeout") or {}
    connect, read, pool = limits.get("connect"), limits.get("read"), limits.get("pool")
    return aiohttp.ClientTimeout(
        total=None,
        # aiohttp's `connect` covers waiting for a pooled connection plus opening one.
        connect=None if connect is None or pool is None else connect + pool,
        sock_connect=connect,
        # Bounds the wait for the response head; the body's reads are timed by ReadDeadlines.
        sock_read=read,
    )


def _httpx_error(exc: BaseException, request: httpx2.Request, *, reading: bool) -> httpx2.TransportError:
    """The httpx exception for an aiohttp failure (most specific first: the classes nest)."""
    message = str(exc) or type(exc).__name__
    kind: type[httpx2.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx2.ConnectTimeout
    elif isinstance(exc, asyncio.TimeoutError):  # aiohttp's SocketTimeoutError/ServerTimeoutError
        kind = httpx2.ReadTimeout
    elif isinstance(exc, aiohttp.ClientProxyConnectionError):
        kind = httpx2.ProxyError
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx2.ConnectError
    elif isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        kind = httpx2.RemoteProtocolError  # closed mid-answer, a cut body, a malformed answer
    elif isinstance(exc, aiohttp.InvalidURL):
        kind = httpx2.UnsupportedProtocol
    elif isinstance(exc, (aiohttp.ClientConnectionError, OSError)):
        kind = httpx2.ReadError if reading else httpx2.WriteError
    else:
        kind = httpx2.TransportError
    return kind(message, request=request)


_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


async def _socket_closed() -> None:
    """One loop turn: asyncio closes a transport's socket in a callback scheduled by `close()`.

    Without it the socket stays open until the caller next awaits, and a caller that goes on to
    block (or a server watching for the disconnect) would see the upstream still connected.
    """
    await asyncio.sleep(0)


class AiohttpResponseStream(httpx2.AsyncByteStream):
    """A response body as aiohttp buffers it: each read returns all the bytes that have arrived."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        request: httpx2.Request,
        *,
        read_timeout: float | None = None,
        deadlines: "ReadDeadlines | None" = None,
    ) -> None:
        self._response = response
        self._request = request
        self.read_timeout = read_timeout
        self._deadlines = deadlines
        self.waiting_since: float | None = None  # loop time the pending read began

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        read = content.readany  # b"" only at the end of the body
        now = asyncio.get_running_loop().time
        if self._deadlines is not None and self.read_timeout is not None:
            self._deadlines.watch(self)
        try:
            while True:
                self.waiting_since = now()
                chunk = await read()
                self.waiting_since = None
                if not chunk:
                    return
                yield chunk
        except _FAILURES as exc:
            raise _httpx_error(exc, self._request, reading=True) from exc
        finally:
            self.waiting_since = None
            if self._deadlines is not None:
                self._deadlines.forget(self)

    def time_out(self) -> None:
        """Fail the pending read: no byte came for `read_timeout` seconds."""
        self._response.content.set_exception(aiohttp.SocketTimeoutError("Timeout on reading data from socket"))

    async def aclose(self) -> None:
        response = self._response
        if self._deadlines is not None:
            self._deadlines.forget(self)
        if response.content.at_eof():
            response.release()  # a complete answer: the connection goes back to the pool
        else:
            # Stop the upstream now (a cancelled run must stop the provider generating): an
            # unfinished body cannot be reused anyway, so the TCP connection is closed at once.
            response.close()
            await _socket_closed()


class ReadDeadlines:
    """Read timeouts of the bodies being read on one loop: one periodic check, not a timer per read.

    aiohttp re-arms a timer on every network read (about 6 µs of CPU here), and a paced LLM
    stream is one read per token; a body here only notes when its pending read began, and this
    check fails a read that has waited `read_timeout` (up to a quarter of it late, at most 1 s).
    """

    def __init__(self) -> None:
        self._bodies: set[AiohttpResponseStream] = set()
        self._task: asyncio.Task | None = None

    def watch(self, body: AiohttpResponseStream) -> None:
        self._bodies.add(body)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._check(), name="llm-http-read-deadlines")

    def forget(self, body: AiohttpResponseStream) -> None:
        self._bodies.discard(body)

    async def _check(self) -> None:
        loop = asyncio.get_running_loop()
        while self._bodies:
            shortest = min(body.read_timeout or MAX_CHECK_SECONDS for body in self._bodies)
            await asyncio.sleep(min(MAX_CHECK_SECONDS, shortest / 4))
            now = loop.time()
            for body in list(self._bodies):
                since = body.waiting_since
                if since is not None and body.read_timeout is not None and now - since >= body.read_timeout:
                    self._bodies.discard(body)
                    body.time_out()

    async def aclose(self) -> None:
        self._bodies.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """Sends httpx requests with one aiohttp session; build and use it on one event loop."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS, keepalive_seconds: float = KEEPALIVE_SECONDS):
        self._max_connections = max_connections
        self._keepalive_seconds = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None
        self._deadlines = ReadDeadlines()
        self._proxies: dict[tuple[str, str | None], _Proxy] = {}

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, limit_per_host=0, keepalive_timeout=self._keepalive_seconds
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            auto_decompress=False,  # httpx decodes a content encoding itself, from the headers we pass up
            timeout=aiohttp.ClientTimeout(total=None),
        )

    def _proxy_for(self, url: URL) -> _Proxy:
        """The HTTP(S)_PROXY/NO_PROXY choice for this origin, as httpx makes it (looked up once)."""
        key = (url.scheme, url.host)
        if key not in self._proxies:
            try:
                self._proxies[key] = get_env_proxy_for_url(url)
            except LookupError:
                self._proxies[key] = None
        return self._proxies[key]

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._session is None or self._session.closed:
            self._session = self._open_session()
        url = URL(str(request.url), encoded=True)
        proxy = self._proxy_for(url)
        body = await request.aread()
        try:
            response = await self._session.request(
                request.method,
                url,
                # httpx's headers as they are (Host, User-Agent, Accept-Encoding included), so aiohttp adds none.
                headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw],
                data=body or None,
                allow_redirects=False,  # httpx follows redirects itself
                timeout=_timeout(request),
                proxy=proxy[0] if proxy else None,
                proxy_auth=proxy[1] if proxy else None,
            )
        except _FAILURES as exc:
            await _socket_closed()  # aiohttp closed the connection: the server sees it before we report
            raise _httpx_error(exc, request, reading=False) from exc
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        connection = response.connection
        if connection is not None and connection.protocol is not None:
            # aiohttp timed the wait for the head; the body's reads are timed by ReadDeadlines.
            connection.protocol.read_timeout = None
        version = response.version
        return httpx2.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=AiohttpResponseStream(response, request, read_timeout=read_timeout, deadlines=self._deadlines),
            extensions={
                "http_version": f"HTTP/{version.major}.{version.minor}".encode() if version else b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        await self._deadlines.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None
