"""Incoming WebSocket message sizes: each socket type reads up to its own cap; the server refuses more.

Oversize messages close the socket with 1009 (message too big) before anything parses them.
"""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from config.asgi import application
from config.serve import WS_MAX_MESSAGE_BYTES, daphne_args
from game.consumers import EventsConsumer, LeaderboardConsumer
from llm.consumers import PlaygroundConsumer
from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS
from tests.llm.runs_support import playground

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_1009 = {"type": "websocket.close", "code": 1009}


def ping_of_length(length: int) -> str:
    """A valid ping message exactly `length` characters long."""
    frame = json.dumps({"type": "ping", "pad": ""})
    return json.dumps({"type": "ping", "pad": "x" * (length - len(frame))})


async def widget() -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, "/ws/leaderboard/all-time/")
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=5))["type"] == "leaderboard.snapshot"
    return socket


async def test_a_widget_socket_reads_a_message_up_to_its_cap():
    socket = await widget()
    try:
        await socket.send_to(text_data=ping_of_length(LeaderboardConsumer.max_message_chars))

        assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    finally:
        await socket.disconnect()


async def test_a_widget_socket_closes_on_a_longer_message_without_reading_it():
    socket = await widget()
    try:
        await socket.send_to(text_data=ping_of_length(LeaderboardConsumer.max_message_chars + 1))

        assert await socket.receive_output(timeout=3) == CLOSED_1009
    finally:
        await socket.disconnect()


async def test_a_widget_socket_closes_on_a_long_binary_message_too():
    socket = await widget()
    try:
        await socket.send_to(bytes_data=b"x" * (LeaderboardConsumer.max_message_chars + 1))

        assert await socket.receive_output(timeout=3) == CLOSED_1009
    finally:
        await socket.disconnect()


async def test_an_unauthenticated_socket_closes_on_a_long_message_before_any_auth_check():
    socket = WebsocketCommunicator(application, "/ws/events/")
    connected, _ = await socket.connect()
    assert connected
    try:
        await socket.send_to(text_data=json.dumps({"type": "auth", "token": "x" * 10_000}))

        # Not the `invalid_token` error and 4401 a parsed auth frame would get.
        assert await socket.receive_output(timeout=3) == CLOSED_1009
    finally:
        await socket.disconnect()


async def test_the_playground_reads_a_run_start_with_prompt_and_system_at_their_limits(user):
    # Every character of both texts escaped to two in JSON (newlines here).
    message = json.dumps(
        {
            "type": "run.start",
            "request_id": "r1",
            "model": "nope:unknown",
            "prompt": "\n" * PROMPT_MAX_CHARS,
            "params": {"system": "\n" * SYSTEM_MAX_CHARS, "temperature": 0, "max_tokens": 16},
        }
    )
    assert len(message) <= PlaygroundConsumer.max_message_chars
    socket = await playground(user)
    try:
        await socket.send_to(text_data=message)

        reply = await socket.receive_json_from(timeout=5)
        assert reply["type"] == "run.failed"
        assert reply["request_id"] == "r1"
    finally:
        await socket.disconnect()


async def test_the_playground_closes_on_a_message_over_its_cap(user):
    socket = await playground(user)
    try:
        await socket.send_to(text_data=ping_of_length(PlaygroundConsumer.max_message_chars + 1))

        assert await socket.receive_output(timeout=3) == CLOSED_1009
    finally:
        await socket.disconnect()


def test_the_server_cap_is_above_every_consumer_cap_in_utf8_bytes():
    largest = max(consumer.max_message_chars for consumer in (EventsConsumer, LeaderboardConsumer, PlaygroundConsumer))

    assert 4 * largest <= WS_MAX_MESSAGE_BYTES
    assert WS_MAX_MESSAGE_BYTES < 1024 * 1024  # below daphne's own default


def test_the_launcher_caps_messages_and_frames_unless_told_otherwise():
    cap = str(WS_MAX_MESSAGE_BYTES)

    assert daphne_args(["-p", "8000", "config.asgi:application"]) == [
        "--websocket-max-message-size",
        cap,
        "--websocket-max-frame-size",
        cap,
        "-p",
        "8000",
        "config.asgi:application",
    ]
    assert daphne_args(["--websocket-max-message-size=1000", "app"]) == [
        "--websocket-max-frame-size",
        cap,
        "--websocket-max-message-size=1000",
        "app",
    ]


async def close_code_after_sending(url: str, message: str, *, first: str | None = None) -> tuple[int, str]:
    async with connect(url, max_size=None, open_timeout=10) as ws:
        if first is not None:
            await ws.send(first)
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "auth.ok"
        await ws.send(message)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    received = closed.value.rcvd
    assert received is not None, "the server dropped the connection without a close frame"
    return received.code, received.reason


@pytest.mark.processes
async def test_a_real_server_refuses_a_message_over_its_cap_with_1009(daphne, user):
    server = daphne()
    token = await database_sync_to_async(lambda: str(AccessToken.for_user(user)))()
    auth = json.dumps({"type": "auth", "token": token})
    under_daphnes_default = "x" * (WS_MAX_MESSAGE_BYTES + 1)

    # Refused by the server itself, which says why (a consumer's close carries no reason).
    code, reason = await close_code_after_sending(f"{server.ws_url}/ws/leaderboard/all-time/", under_daphnes_default)
    assert (code, "payload limit" in reason) == (1009, True)
    code, reason = await close_code_after_sending(f"{server.ws_url}/ws/playground/", under_daphnes_default, first=auth)
    assert (code, "payload limit" in reason) == (1009, True)
    # Under the server's cap, over the playground's: refused by the consumer.
    over_playground = ping_of_length(PlaygroundConsumer.max_message_chars + 1)
    assert await close_code_after_sending(f"{server.ws_url}/ws/playground/", over_playground, first=auth) == (1009, "")
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("depth", [65, 1000, 4000])
async def test_a_deeply_nested_message_gets_an_error_and_the_socket_stays_open(user, depth):
    socket = WebsocketCommunicator(application, "/ws/events/")
    connected, _ = await socket.connect()
    assert connected
    try:
        await socket.send_to(text_data='{"type": "ping", "x": ' + "[" * depth + "]" * depth + "}")

        assert await socket.receive_json_from(timeout=3) == {
            "type": "error",
            "code": "invalid_json",
            "message": "Nested deeper than 64 levels.",
        }
        token = await database_sync_to_async(lambda: str(AccessToken.for_user(user)))()
        await socket.send_json_to({"type": "auth", "token": token})
        assert (await socket.receive_json_from(timeout=3))["type"] == "auth.ok"
    finally:
        await socket.disconnect()


async def test_a_playground_message_nested_forty_thousand_deep_gets_an_error(user):
    socket = await playground(user)
    try:
        await socket.send_to(text_data="[" * 40_000 + "]" * 40_000)

        assert (await socket.receive_json_from(timeout=3))["code"] == "invalid_json"
        await socket.send_json_to({"type": "run.cancel", "run_id": "nope"})
        assert (await socket.receive_json_from(timeout=3))["code"] == "unknown_run"
    finally:
        await socket.disconnect()
