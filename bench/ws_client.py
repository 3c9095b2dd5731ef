"""A minimal asyncio WebSocket client for the widget benchmarks (RFC 6455, client side, no extensions).

Why not the `websockets` client: per received frame it runs a parser generator, UTF-8 validation,
a message queue and a reader task wake-up (and inflates, if the server compresses), several times
this client's CPU. One process reading 1,000 sockets pays that 1,000 times per update, so the
"last socket received the update" figure would measure the client instead of the server.
This one is an `asyncio.Protocol`: `data_received` parses every complete frame in the chunk, takes
one `time.perf_counter()` stamp for the chunk and appends it per message; text is decoded only
when read.

    ws = await connect("ws://127.0.0.1:8000/ws/leaderboard/all-time/")
    snapshot = await ws.next_message()
    ...  # ws.times: arrival stamps, ws.last: the newest message's text
    await ws.close()
"""

import asyncio
import base64
import hashlib
import os
import struct
import time
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def _mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the repeating 4-byte key, as one big-integer operation."""
    n = len(payload)
    if not n:
        return payload
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def _frame(opcode: int, payload: bytes) -> bytes:
    """One masked, final client frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + _mask(payload, key)


class WebSocket(asyncio.Protocol):
    """One client connection. Received messages only append a stamp and replace `last`."""

    def __init__(self, host: str, port: int, path: str, origin: str) -> None:
        self.times: list[float] = []  # perf_counter() per received data message
        self._last: bytes | None = None
        self._key = base64.b64encode(os.urandom(16))
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._handshake = b""  # response bytes until the end of the 101 headers
        self._buffer = bytearray()  # an incomplete frame carried to the next chunk
        self._fragments: list[bytes] = []
        self._close_sent = False
        self._waiter: asyncio.Future[str] | None = None
        self._returned = 0  # messages counted when next_message() last returned

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()  # one stamp per chunk: everything in it arrived together
        if not self.opened.done():
            data = self._read_handshake(data)
            if not data:
                return
        if self._buffer:
            self._buffer += data
            buf: bytes | bytearray = self._buffer
        else:
            buf = data
        pos, end = 0, len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, start = b1 & 0x7F, pos + 2
            if length == 126:
                if end - pos < 4:
                    break
                length, start = int.from_bytes(buf[pos + 2 : pos + 4], "big"), pos + 4
            elif length == 127:
                if end - pos < 10:
                    break
                length, start = int.from_bytes(buf[pos + 2 : pos + 10], "big"), pos + 10
            if b1 & 0x80:
                self._fail("masked frame from the server")
                return
            if start + length > end:
                break
            pos = start + length
            self._on_frame(b0, bytes(buf[start:pos]), now)
        if buf is self._buffer:
            del self._buffer[:pos]
        elif pos < end:
            self._buffer = bytearray(buf[pos:])

    def connection_lost(self, exc: Exception | None) -> None:
        error = ConnectionError("WebSocket connection closed")
        if not self.opened.done():
            self.opened.set_exception(error)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)

    # --- receiving ---

    def _read_handshake(self, data: bytes) -> bytes:
        """Collect the 101 response; return the bytes after it (frames sent right after the upgrade)."""
        self._handshake += data
        head, sep, rest = self._handshake.partition(b"\r\n\r\n")
        if not sep:
            return b""
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        accept = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()
        if status.split(" ", 2)[1:2] != ["101"]:
            self._fail(f"handshake refused: {status}")
        elif headers.get("sec-websocket-accept") != accept:
            self._fail("bad Sec-WebSocket-Accept")
        else:
            self._handshake = b""
            self.opened.set_result(None)
            return rest
        return b""

    def _on_frame(self, b0: int, payload: bytes, now: float) -> None:
        opcode = b0 & 0x0F
        if opcode <= BINARY:  # continuation, text or binary
            if not b0 & 0x80:  # not final: keep the pieces (the data opcode is not needed: text is decoded lazily)
                self._fragments.append(payload)
                return
            if self._fragments:
                self._fragments.append(payload)
                payload = b"".join(self._fragments)
                self._fragments = []
            self.times.append(now)
            self._last = payload
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(payload.decode())
                self._returned = len(self.times)
                self._waiter = None
        elif opcode == PING:
            self._send(PONG, payload)
        elif opcode == CLOSE:
            if not self._close_sent:
                self._send(CLOSE, payload[:2])  # echo the status code
            self._transport.close()
        # PONG: nothing to do

    def _fail(self, reason: str) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(reason))
        self._transport.abort()

    # --- the public side ---

    @property
    def last(self) -> str | None:
        """The newest message's text (decoded now, not on arrival)."""
        return None if self._last is None else self._last.decode()

    def next_message(self) -> "asyncio.Future[str]":
        """The next message not yet returned here (or the newest, if several arrived meanwhile).
        For setup (a snapshot, an auth reply), not for measuring: it costs a future per call."""
        waiter = asyncio.get_running_loop().create_future()
        if len(self.times) > self._returned:
            waiter.set_result(self._last.decode())
            self._returned = len(self.times)
        elif self.closed.done():
            waiter.set_exception(ConnectionError("WebSocket connection closed"))
        else:
            self._waiter = waiter
        return waiter

    def send_text(self, text: str) -> None:
        self._send(TEXT, text.encode())

    def _send(self, opcode: int, payload: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        if opcode == CLOSE:
            self._close_sent = True
        self._transport.write(_frame(opcode, payload))

    async def close(self, timeout: float = 5) -> None:
        """Close handshake (1000), then wait for the connection to end; abort if it does not."""
        if not self.closed.done():
            self._send(CLOSE, struct.pack("!H", 1000))
            try:
                await asyncio.wait_for(asyncio.shield(self.closed), timeout)
            except TimeoutError:
                self._transport.abort()


async def connect(url: str, timeout: float = 60) -> WebSocket:
    """Open ws://host:port/path, sending Origin http://host:port (the server checks origins)."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or not parts.hostname:
        raise ValueError(f"only ws:// URLs: {url}")
    host, port = parts.hostname, parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    loop = asyncio.get_running_loop()

    async def open_() -> WebSocket:
        _, ws = await loop.create_connection(lambda: WebSocket(host, port, path, f"http://{host}:{port}"), host, port)
        await ws.opened
        return ws

    return await asyncio.wait_for(open_(), timeout)
