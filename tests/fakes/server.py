"""A tiny asyncio HTTP/1.1 server that plays scripted LLM streams and records what clients did.

One `FakeLLMServer` speaks one dialect (OpenAI chat completions or Anthropic Messages, see
`dialects.py`). It runs on loopback in a thread of the test process (`start()`/`stop()`), or as
a subprocess (`python -m tests.fakes openai --port N`) steered over its `/_fake/*` endpoints.

Each request is answered by the next queued `Script` (`enqueue`) or else by the default one
(`script`). Every request is recorded with its JSON body and whether the client went away
before the answer ended (`RecordedRequest.disconnected`). `GET /v1/models` lists `models`;
with `accepted_keys` set, a request whose key (`Authorization: Bearer`, `x-api-key`) is not one
of them gets the dialect's 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

DEFAULT_TOKENS = ("Hello", ",", " world", "!")


@dataclass
class Script:
    """How the server answers one request."""

    tokens: list[str] = field(default_factory=lambda: list(DEFAULT_TOKENS))
    delay: float = 0.0  # seconds before each token
    status: int = 200  # non-200: a JSON error body in the dialect's shape
    retry_after: float | None = None  # Retry-After header on error answers
    hang: bool = False  # read the request, then never answer (until the client goes away)
    stall_after: int | None = None  # send this many tokens, then go silent (connection kept open)
    drop_after: int | None = None  # send this many tokens, then close the connection mid-body
    error_after: int | None = None  # send this many tokens, then an error event inside the 200 stream
    input_tokens: int | None = None  # reported usage; default: words in the prompt
    ping: bool = True  # Anthropic: a ping event after content_block_start
    usage: bool = True  # OpenAI: send the usage chunk when the request asks for it

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    client_port: int = 0  # the client's side of the connection: equal ports mean a reused connection
    tokens_sent: int = 0
    completed: bool = False  # the whole scripted answer was written
    disconnected: bool = False  # the client closed the connection before the answer ended
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait_done(self, timeout: float = 5.0) -> bool:
        """Block until the server finished with this request (answered, or the client left)."""
        return self.done.wait(timeout)

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "done"}


class ClientGone(Exception):
    pass


class DropConnection(Exception):
    """Raised by a dialect to cut the connection mid-body (a scripted network failure)."""


class Dialect(Protocol):
    name: str

    def matches(self, method: str, path: str) -> bool: ...

    def lists_models(self, method: str, path: str) -> bool: ...

    def models_body(self, names: list[str]) -> dict[str, Any]: ...

    def credential(self, headers: dict[str, str]) -> str: ...

    def error_body(self, status: int) -> dict[str, Any]: ...

    def input_tokens(self, body: Any) -> int: ...

    async def play(self, stream: StreamWriter, body: Any, script: Script, input_tokens: int) -> None: ...

    def complete_body(self, body: Any, script: Script, input_tokens: int) -> dict[str, Any]: ...


class StreamWriter:
    """Writes one chunked SSE answer and notices the client leaving at any await."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: RecordedRequest):
        self._reader = reader
        self._writer = writer
        self.record = record

    def _gone(self) -> bool:
        # The request body was fully read, so EOF on the reader means the client closed.
        return self._reader.at_eof() or self._writer.is_closing()

    async def pause(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)
        if self._gone():
            raise ClientGone

    async def send(self, data: str, *, token: bool = False) -> None:
        if self._gone():
            raise ClientGone
        raw = data.encode()
        self._writer.write(b"%x\r\n%s\r\n" % (len(raw), raw))
        try:
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise ClientGone from exc
        if token:
            self.record.tokens_sent += 1

    async def wait_forever(self) -> None:
        while not self._gone():
            await asyncio.sleep(0.02)
        raise ClientGone


class FakeLLMServer:
    def __init__(
        self,
        dialect: Dialect,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: list[str] | None = None,
        accepted_keys: set[str] | None = None,
    ):
        self.dialect = dialect
        self.models = list(models or ["fake-model"])  # what GET /v1/models lists
        self.accepted_keys = accepted_keys  # None: any key
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._default = Script()
        self._queue: deque[Script] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # --- steering -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def script(self, **knobs: Any) -> Script:
        """Set the default answer for every request not covered by `enqueue`."""
        with self._lock:
            self._default = Script(**knobs)
            return self._default

    def enqueue(self, *scripts: Script) -> None:
        """Answer the next requests with these scripts, in order."""
        with self._lock:
            self._queue.extend(scripts)

    def reset(self) -> None:
        with self._lock:
            self._default = Script()
            self._queue.clear()
            self.requests.clear()

    def last_request(self, timeout: float = 5.0) -> RecordedRequest:
        """The most recent request, waiting up to `timeout` for one to arrive."""
        deadline = time.monotonic() + timeout
        while not self.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.requests[-1]

    def _next_script(self) -> Script:
        with self._lock:
            return self._queue.popleft() if self._queue else self._default

    # --- lifecycle (in a thread of this process) ----------------------------------------
    def start(self) -> FakeLLMServer:
        self._thread = threading.Thread(target=self._run_thread, name=f"fake-{self.dialect.name}", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run_thread(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        loop.run_until_complete(self.listen())
        self._started.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def listen(self) -> None:
        self._server = await asyncio.start_server(self._handle_connection, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    # --- HTTP -----------------------------------------------------------------------------
    async def _handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, path, headers = _parse_head(head)
                length = int(headers.get("content-length", "0") or 0)
                raw = await reader.readexactly(length) if length else b""
                if not await self._dispatch(reader, writer, method, path, headers, raw):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _dispatch(self, reader, writer, method: str, path: str, headers: dict[str, str], raw: bytes) -> bool:
        """Answer one request; False when the connection must be closed."""
        if path.startswith("/_fake/"):
            status, payload = self._control(method, path, raw)
            await _send_json(writer, status, payload)
            return True
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            await _send_json(writer, 400, self.dialect.error_body(400))
            return True
        peer = writer.get_extra_info("peername") or ("", 0)
        record = RecordedRequest(method=method, path=path, headers=headers, body=body, client_port=peer[1])
        self.requests.append(record)
        try:
            if self.accepted_keys is not None and self.dialect.credential(headers) not in self.accepted_keys:
                await _send_json(writer, 401, self.dialect.error_body(401))
                record.completed = True
                return True
            if self.dialect.lists_models(method, path):
                await _send_json(writer, 200, self.dialect.models_body(self.models))
                record.completed = True
                return True
            if not self.dialect.matches(method, path):
                await _send_json(writer, 404, self.dialect.error_body(404))
                record.completed = True
                return True
            return await self._answer(reader, writer, record, self._next_script())
        finally:
            record.done.set()

    async def _answer(self, reader, writer, record: RecordedRequest, script: Script) -> bool:
        stream = StreamWriter(reader, writer, record)
        try:
            if script.hang:
                await stream.wait_forever()
            if script.status != 200:
                extra = {"retry-after": f"{script.retry_after:g}"} if script.retry_after is not None else {}
                await _send_json(writer, script.status, self.dialect.error_body(script.status), extra)
                record.completed = True
                return True
            input_tokens = script.input_tokens
            if input_tokens is None:
                input_tokens = self.dialect.input_tokens(record.body)
            if not (isinstance(record.body, dict) and record.body.get("stream")):
                await _send_json(writer, 200, self.dialect.complete_body(record.body, script, input_tokens))
                record.completed = True
                return True
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            await self.dialect.play(stream, record.body, script, input_tokens)
            await stream.send("")  # the zero-length chunk ends the chunked body
            record.completed = True
            return True
        except ClientGone:
            record.disconnected = True
            return False
        except DropConnection:
            writer.transport.abort()
            return False

    def _control(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        data = json.loads(raw or b"null")
        if path == "/_fake/script" and method == "POST":
            return 200, asdict(self.script(**(data or {})))
        if path == "/_fake/enqueue" and method == "POST":
            self.enqueue(*(Script.from_json(item) for item in data))
            return 200, {"queued": len(data)}
        if path == "/_fake/reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}
        if path == "/_fake/requests" and method == "GET":
            return 200, [r.as_json() for r in self.requests]
        return 404, {"detail": "unknown control endpoint"}


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return method, target.split("?", 1)[0], headers


async def _send_json(
    writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict[str, str] | None = None
) -> None:
    body = json.dumps(payload).encode()
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "content-type: application/json"]
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    head.append(f"content-length: {len(body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}
