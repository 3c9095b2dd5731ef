"""A socket whose client stops reading is closed once the server holds a bounded amount for it.

A real daphne process streams a long run to a raw client that reads nothing after `run.started`
(its receive buffer shrunk to a few KiB, so the kernel holds little). Without a bound the server
would keep every frame in memory for that client until the run ended; with it, the socket is closed
with 4408 past WS_SEND_BUFFER_MAX_BYTES, the run is cancelled, and other clients are served meanwhile.
"""

import asyncio
import base64
import json
import os
import socket
import struct
import time

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect

from config.daphne_server import CLOSE_SLOW_READER
from llm.models import LLMRun
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.llm.runs_support import access_token, set_credits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

MODEL = "openai:gpt-4o-mini"
# 12 MiB of output, in frames well below the server's 384 KiB message cap (which applies to sending too).
TOKENS = ["x" * 1024] * 12288
SEND_BUFFER_MAX = 256 * 1024
MODELS_JSON = json.dumps(
    [
        {
            "id": MODEL,
            "display_name": "GPT-4o mini",
            "context_limit": 128000,
            "max_output_tokens": len(TOKENS),
            "default_params": {"temperature": 0.7, "max_tokens": len(TOKENS)},
            "credits_per_1k_input": 1,
            "credits_per_1k_output": 1,
        }
    ]
)


class RawSocket:
    """A blocking WebSocket client that reads only when told to (RFC 6455 client side, text frames)."""

    def __init__(self, port: int, path: str, receive_buffer: int = 4096):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)  # before connect: the window
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_json(self, message: dict) -> None:
        payload, mask = json.dumps(message).encode(), os.urandom(4)
        n = len(payload)
        head = struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0x80 | 126, n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def next_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame; ConnectionError once the server is gone."""
        while True:
            header = self._header()
            if header is not None and len(self.buffer) >= header[0] + header[1]:
                start, length = header
                opcode, payload = self.buffer[0] & 0x0F, self.buffer[start : start + length]
                self.buffer = self.buffer[start + length :]
                return opcode, payload
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk

    def _header(self) -> tuple[int, int] | None:
        """(payload start, payload length) of the buffered frame, once its header is complete."""
        if len(self.buffer) < 2:
            return None
        length = self.buffer[1] & 0x7F
        if length < 126:
            return 2, length
        size = 2 if length == 126 else 8
        if len(self.buffer) < 2 + size:
            return None
        return 2 + size, int.from_bytes(self.buffer[2 : 2 + size], "big")

    def next_json(self) -> dict:
        opcode, payload = self.next_frame()
        assert opcode == 1, (opcode, payload[:100])
        return json.loads(payload)

    def drain(self) -> tuple[list[dict], int | None]:
        """Read until the server is gone: the text messages read and the close code, if one came."""
        messages, code = [], None
        try:
            while True:
                opcode, payload = self.next_frame()
                if opcode == 1:
                    messages.append(json.loads(payload))
                elif opcode == 8:
                    code = struct.unpack("!H", payload[:2])[0]
                    break
        except (ConnectionError, TimeoutError):
            pass
        return messages, code

    def close(self) -> None:
        self.sock.close()


async def wait_for_run_end(run_id: str, timeout: float = 120) -> LLMRun:
    deadline = time.monotonic() + timeout
    while True:
        run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
        if run.status != "running" or time.monotonic() > deadline:
            return run
        await asyncio.sleep(0.2)


async def test_a_client_that_stops_reading_is_closed_and_its_run_cancelled(user, daphne, fake_openai):  # noqa: F811
    fake_openai.script(tokens=TOKENS, delay=0.0005)  # spread out, so each run.token frame is ~20 KiB
    await database_sync_to_async(set_credits)(user, 100_000)
    server = daphne(
        OPENAI_BASE_URL=f"{fake_openai.url}/v1",
        OPENAI_API_KEY="sk-test",
        LLM_MODELS_JSON=MODELS_JSON,
        LLM_MAX_RETRIES="0",
        LLM_RESUME_GRACE_SECONDS="0",
        WS_SEND_BUFFER_MAX_BYTES=str(SEND_BUFFER_MAX),
    )
    token = await database_sync_to_async(access_token)(user)
    slow = await asyncio.to_thread(RawSocket, server.port, "/ws/playground/")
    try:
        slow.send_json({"type": "auth", "token": token})
        assert (await asyncio.to_thread(slow.next_json))["type"] == "auth.ok"
        slow.send_json({"type": "run.start", "request_id": "r1", "model": MODEL, "prompt": "Go"})
        started = await asyncio.to_thread(slow.next_json)
        assert started["type"] == "run.started"

        # The client reads nothing more while the run streams; another client is served meanwhile.
        async with connect(f"{server.ws_url}/ws/leaderboard/all-time/", open_timeout=10) as widget:
            snapshot = json.loads(await asyncio.wait_for(widget.recv(), 10))
        run = await wait_for_run_end(started["run_id"])
        messages, code = await asyncio.to_thread(slow.drain)
    finally:
        slow.close()

    assert run.status == "cancelled"
    assert snapshot["type"] == "leaderboard.snapshot"
    assert "run.completed" not in {m["type"] for m in messages}
    received = sum(len(m.get("delta", "")) for m in messages)
    assert received < len(TOKENS) * len(TOKENS[0]) // 2
    assert code in (CLOSE_SLOW_READER, None)  # None: the close frame was still queued when the socket was dropped
    assert "closed a WebSocket that read too slowly" in server.log()
