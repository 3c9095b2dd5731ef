"""The WebSocket auth layer (accounts.ws), exercised through /ws/events/ on the real ASGI app."""

import asyncio
import json
import threading
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import services
from config.asgi import application

PATH = "/ws/events/"
CLOSED_4401 = {"type": "websocket.close", "code": 4401}

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(headers: list[tuple[bytes, bytes]] | None = None) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, PATH, headers=headers or [])


async def connected(headers=None) -> WebsocketCommunicator:
    comm = communicator(headers)
    ok, _ = await comm.connect()
    assert ok
    return comm


async def authenticate(comm: WebsocketCommunicator, token: str) -> dict:
    await comm.send_json_to({"type": "auth", "token": token})
    return await comm.receive_json_from()


async def test_valid_access_token_authenticates_the_socket(user):
    comm = await connected()
    try:
        reply = await authenticate(comm, str(AccessToken.for_user(user)))

        assert reply == {"type": "auth.ok", "user": {"id": str(user.pk), "username": "alice"}}
        assert await comm.receive_nothing(timeout=0.2)
    finally:
        await comm.disconnect()


async def test_bad_token_gets_an_error_then_4401():
    comm = await connected()
    try:
        reply = await authenticate(comm, "not.a.jwt")

        assert reply == {"type": "error", "code": "invalid_token", "message": "Token is invalid"}
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


@pytest.mark.parametrize("token", [None, 42, "", ["x"]])
async def test_missing_or_non_string_token_is_4401(token):
    comm = await connected()
    try:
        await comm.send_json_to({"type": "auth", "token": token})

        assert (await comm.receive_json_from())["code"] == "invalid_token"
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_expired_token_is_4401(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))
    comm = await connected()
    try:
        reply = await authenticate(comm, str(token))

        assert reply == {"type": "error", "code": "invalid_token", "message": "Token is expired"}
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_refresh_token_is_not_accepted_on_sockets(user):
    refresh = await database_sync_to_async(RefreshToken.for_user)(user)
    comm = await connected()
    try:
        reply = await authenticate(comm, str(refresh))

        assert reply == {"type": "error", "code": "invalid_token", "message": "Token has wrong type"}
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


@pytest.fixture
def sleeper(make_user):
    return make_user("sleeper", is_active=False)


async def test_inactive_user_is_refused(sleeper):
    comm = await connected()
    try:
        reply = await authenticate(comm, str(AccessToken.for_user(sleeper)))

        assert reply == {"type": "error", "code": "invalid_token", "message": "user not found or inactive"}
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_token_issued_before_a_password_change_is_refused(user):
    token = str(AccessToken.for_user(user))
    await services_password_change(user)
    comm = await connected()
    try:
        reply = await authenticate(comm, token)

        assert reply["code"] == "invalid_token"
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


async def services_password_change(user):
    await database_sync_to_async(services.user_password_change)(user=user, new_password="Another-pass-phrase-9")


async def test_no_auth_within_the_timeout_is_4401(settings):
    settings.WS_AUTH_TIMEOUT_SECONDS = 1
    comm = await connected()
    try:
        assert await comm.receive_output(timeout=4) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_any_other_first_message_is_refused():
    comm = await connected()
    try:
        await comm.send_json_to({"type": "run.start"})

        assert await comm.receive_json_from() == {
            "type": "error",
            "code": "unauthenticated",
            "message": 'Authenticate first with {"type": "auth", "token": ...}.',
        }
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_malformed_frames_get_errors_and_the_socket_stays_open(user):
    comm = await connected()
    try:
        await comm.send_to(text_data="{nope")
        bad_json = await comm.receive_json_from()
        await comm.send_to(text_data=json.dumps([1, 2]))
        not_object = await comm.receive_json_from()
        await comm.send_to(bytes_data=b"\x00\x01")
        binary = await comm.receive_json_from()
        reply = await authenticate(comm, str(AccessToken.for_user(user)))

        assert bad_json["code"] == "invalid_json"
        assert not_object["code"] == "invalid_message"
        assert binary["code"] == "invalid_message"
        assert reply["type"] == "auth.ok"
    finally:
        await comm.disconnect()


async def test_socket_is_closed_when_its_token_expires(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=2))
    comm = await connected()
    try:
        assert (await authenticate(comm, str(token)))["type"] == "auth.ok"

        assert await comm.receive_output(timeout=6) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_fresh_token_renews_the_socket_past_the_first_expiry(user):
    first = AccessToken.for_user(user)
    first.set_exp(lifetime=timedelta(seconds=2))
    fresh = AccessToken.for_user(user)
    fresh.set_exp(lifetime=timedelta(seconds=60))
    comm = await connected()
    try:
        assert (await authenticate(comm, str(first)))["type"] == "auth.ok"

        reply = await authenticate(comm, str(fresh))

        assert reply == {"type": "auth.ok", "user": {"id": str(user.pk), "username": "alice"}, "renewed": True}
        assert await comm.receive_nothing(timeout=3)  # the first token's expiry passed; still open
        await comm.send_json_to({"type": "ping"})
        assert await comm.receive_json_from() == {"type": "pong"}
    finally:
        await comm.disconnect()


async def test_renewal_with_another_users_token_ends_the_socket(user, make_user):
    other = await database_sync_to_async(make_user)("mallory")
    comm = await connected()
    try:
        assert (await authenticate(comm, str(AccessToken.for_user(user))))["type"] == "auth.ok"

        reply = await authenticate(comm, str(AccessToken.for_user(other)))

        assert reply == {"type": "error", "code": "invalid_token", "message": "The token belongs to another user."}
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_renewal_with_a_bad_token_ends_the_socket(user):
    comm = await connected()
    try:
        assert (await authenticate(comm, str(AccessToken.for_user(user))))["type"] == "auth.ok"

        reply = await authenticate(comm, "again")

        assert reply == {"type": "error", "code": "invalid_token", "message": "Token is invalid"}
        assert await comm.receive_output(timeout=2) == CLOSED_4401
    finally:
        await comm.disconnect()


@pytest.mark.parametrize("origin", [b"https://evil.example", b"null", b"https://localhost.evil.example"])
async def test_foreign_origin_is_refused(origin):
    comm = communicator([(b"origin", origin)])
    try:
        ok, _ = await comm.connect()

        assert ok is False
    finally:
        await comm.disconnect()


@pytest.mark.parametrize("origin", [b"http://localhost:8000", b"http://127.0.0.1:8000"])
async def test_own_origins_are_accepted(origin):
    comm = communicator([(b"origin", origin)])
    try:
        ok, _ = await comm.connect()

        assert ok is True
    finally:
        await comm.disconnect()


async def test_cors_allowed_origin_is_accepted(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.promptcraft.example"]
    comm = communicator([(b"origin", b"https://app.promptcraft.example")])
    try:
        ok, _ = await comm.connect()

        assert ok is True
    finally:
        await comm.disconnect()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def test_session_of_a_signed_in_page_authenticates_without_a_token(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    comm = await connected([(b"cookie", f"sessionid={cookie}".encode()), (b"origin", b"http://localhost:8000")])
    try:
        assert await comm.receive_json_from() == {
            "type": "auth.ok",
            "user": {"id": str(user.pk), "username": "alice"},
        }
    finally:
        await comm.disconnect()


async def test_a_token_in_the_url_is_ignored(user, settings):
    settings.WS_AUTH_TIMEOUT_SECONDS = 1
    token = str(AccessToken.for_user(user))
    comm = WebsocketCommunicator(application, f"{PATH}?token={token}")
    try:
        ok, _ = await comm.connect()

        assert ok is True
        assert await comm.receive_output(timeout=4) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_session_socket_is_closed_after_the_session_socket_lifetime(user, settings):
    settings.WS_SESSION_MAX_SECONDS = 1
    cookie = await database_sync_to_async(session_cookie)(user)
    comm = await connected([(b"cookie", f"sessionid={cookie}".encode())])
    try:
        assert (await comm.receive_json_from())["type"] == "auth.ok"

        assert await comm.receive_output(timeout=4) == CLOSED_4401
    finally:
        await comm.disconnect()


async def test_frames_are_handled_while_the_shared_database_thread_is_busy(user):
    """A slow ORM call elsewhere in the process (on Channels' one thread-sensitive thread) holds
    up no socket's frames that need no database: nothing hops to that thread before a handler."""
    comm = await connected()
    assert (await authenticate(comm, str(AccessToken.for_user(user))))["type"] == "auth.ok"
    release = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(release.wait, thread_sensitive=True)(10))
    try:
        await asyncio.sleep(0.05)  # the blocking call holds the thread now
        await comm.send_json_to({"type": "ping"})
        reply = await comm.receive_json_from(timeout=2)

        assert reply == {"type": "pong"}
        assert not busy.done()
    finally:
        release.set()
        await busy
        await comm.disconnect()
