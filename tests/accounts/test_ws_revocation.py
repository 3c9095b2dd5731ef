"""A sign-in that ends closes its open sockets with 4401 within a second, on every server process.

Password change or reset and deactivation close every socket of the user; a logout closes the
sockets of its session only, and that session's access tokens open no socket afterwards.
"""

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from accounts import services
from accounts.services import TokenPair, token_pair_issue
from config.asgi import application
from llm.models import LLMRun
from tests.llm.runs_support import TEST_MODEL, ScriptedProvider, serving_test_model

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Str0ng-pass-phrase!"
NEW_PASSWORD = "Brand-new-passphrase-42"
CLOSED_4401 = {"type": "websocket.close", "code": 4401}


@pytest.fixture
def provider() -> ScriptedProvider:
    provider = ScriptedProvider()
    with serving_test_model(provider):
        yield provider


async def pair_for(user) -> TokenPair:
    return await database_sync_to_async(token_pair_issue)(user=user)


async def signed_in_socket(path: str, access: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, path)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": access})
    assert (await socket.receive_json_from(timeout=3))["type"] == "auth.ok"
    return socket


async def change_password(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    response = await sync_to_async(client.post)("/api/v1/auth/password/change/", body, format="json")
    return response.status_code


async def log_out(refresh: str) -> int:
    response = await sync_to_async(APIClient().post)("/api/v1/auth/logout/", {"refresh": refresh}, format="json")
    return response.status_code


async def disconnect_all(*sockets: WebsocketCommunicator) -> None:
    for socket in sockets:
        await socket.disconnect()


async def test_a_password_change_closes_every_socket_of_the_user_and_no_one_elses(user, make_user):
    bob = await database_sync_to_async(make_user)("bob")
    mine, bobs = await pair_for(user), await pair_for(bob)
    events = await signed_in_socket("/ws/events/", mine.access)
    playground = await signed_in_socket("/ws/playground/", mine.access)
    other = await signed_in_socket("/ws/events/", bobs.access)
    try:
        assert await change_password(mine.access) == 200

        assert await events.receive_output(timeout=1) == CLOSED_4401
        assert await playground.receive_output(timeout=1) == CLOSED_4401
        assert await other.receive_nothing(timeout=0.3)
    finally:
        await disconnect_all(events, playground, other)


async def test_a_password_reset_closes_the_users_sockets(user):
    socket = await signed_in_socket("/ws/events/", (await pair_for(user)).access)
    try:
        uid, token = await database_sync_to_async(services.password_reset_link)(user=user)
        await database_sync_to_async(services.password_reset_confirm)(uid=uid, token=token, new_password=NEW_PASSWORD)

        assert await socket.receive_output(timeout=1) == CLOSED_4401
    finally:
        await socket.disconnect()


async def test_a_logout_closes_that_sessions_sockets_only_and_its_tokens_open_no_more(user):
    laptop, phone = await pair_for(user), await pair_for(user)
    on_laptop = await signed_in_socket("/ws/events/", laptop.access)
    on_phone = await signed_in_socket("/ws/playground/", phone.access)
    try:
        assert await log_out(laptop.refresh) == 205

        assert await on_laptop.receive_output(timeout=1) == CLOSED_4401
        assert await on_phone.receive_nothing(timeout=0.3)
        # The logged-out session's access token has not expired, but it opens no socket any more.
        again = WebsocketCommunicator(application, "/ws/events/")
        await again.connect()
        await again.send_json_to({"type": "auth", "token": laptop.access})
        assert await again.receive_json_from(timeout=3) == {
            "type": "error",
            "code": "invalid_token",
            "message": "this session has been signed out",
        }
        assert await again.receive_output(timeout=1) == CLOSED_4401
        await again.disconnect()
        # nor renews one
        await on_phone.send_json_to({"type": "auth", "token": laptop.access})
        assert (await on_phone.receive_json_from(timeout=3))["code"] == "invalid_token"
    finally:
        await disconnect_all(on_laptop, on_phone)


async def test_a_rotated_session_keeps_its_id_so_its_logout_reaches_sockets_opened_before(user):
    first = await pair_for(user)
    socket = await signed_in_socket("/ws/events/", first.access)
    try:
        rotated = await database_sync_to_async(services.token_refresh)(refresh=first.refresh)

        assert await log_out(rotated.refresh) == 205
        assert await socket.receive_output(timeout=1) == CLOSED_4401
    finally:
        await socket.disconnect()


async def test_logging_out_of_the_web_session_closes_its_sockets(user):
    pair = await pair_for(user)
    socket = await signed_in_socket("/ws/events/", pair.access)
    client = Client(enforce_csrf_checks=True)
    try:
        await sync_to_async(client.get)("/login/")
        csrf = client.cookies["csrftoken"].value
        opened = await sync_to_async(client.post)(
            "/session/", data={"refresh": pair.refresh}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
        )
        assert opened.status_code == 200

        ended = await sync_to_async(client.post)("/session/logout/", HTTP_X_CSRFTOKEN=csrf)

        assert ended.status_code == 205
        assert await socket.receive_output(timeout=1) == CLOSED_4401
    finally:
        await socket.disconnect()


async def test_deactivating_a_user_in_the_admin_closes_their_sockets(user, make_user):
    staff = await database_sync_to_async(make_user)("root", is_staff=True, is_superuser=True)
    socket = await signed_in_socket("/ws/events/", (await pair_for(user)).access)
    admin = Client()
    await sync_to_async(admin.force_login)(staff)
    try:
        # The change form without is_active: the box unticked.
        form = {"username": "alice", "email": "alice@example.com", "first_name": "Test", "last_name": "User"}
        response = await sync_to_async(admin.post)(
            f"/admin/accounts/user/{user.pk}/change/", {**form, "timezone": user.timezone, "bio": ""}
        )

        assert response.status_code == 302
        assert await socket.receive_output(timeout=1) == CLOSED_4401
    finally:
        await socket.disconnect()


async def test_a_password_set_in_the_admin_closes_the_users_sockets(user, make_user):
    staff = await database_sync_to_async(make_user)("root", is_staff=True, is_superuser=True)
    socket = await signed_in_socket("/ws/events/", (await pair_for(user)).access)
    admin = Client()
    await sync_to_async(admin.force_login)(staff)
    try:
        new = "An0ther-long-passphrase!"
        response = await sync_to_async(admin.post)(
            f"/admin/accounts/user/{user.pk}/password/", {"password1": new, "password2": new}
        )

        assert response.status_code == 302
        assert await socket.receive_output(timeout=1) == CLOSED_4401
    finally:
        await socket.disconnect()


async def test_a_sign_out_cancels_the_runs_the_closed_playground_was_streaming(user, provider):
    provider.gate = asyncio.Event()  # the run waits upstream until the test lets it go
    pair = await pair_for(user)
    socket = await signed_in_socket("/ws/playground/", pair.access)
    try:
        await socket.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Say hi"})
        run_id = (await socket.receive_json_from(timeout=5))["run_id"]

        assert await change_password(pair.access) == 200
        frames = []
        while (output := await socket.receive_output(timeout=2))["type"] != "websocket.close":
            frames.append(json.loads(output["text"]))
        assert output == CLOSED_4401
    finally:
        provider.gate.set()
        await socket.disconnect()

    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    for _ in range(50):  # settled by the run's own task
        if run.status != "running":
            break
        await asyncio.sleep(0.1)
        run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert run.status == "cancelled"
    assert provider.closed_early == 1


async def signed_in_client(url: str, access: str):
    ws = await connect(url, open_timeout=10)
    await ws.send(json.dumps({"type": "auth", "token": access}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "auth.ok"
    return ws


@pytest.mark.processes
async def test_a_password_change_closes_the_users_sockets_on_every_server_process(daphne, user):
    first, second = daphne(), daphne()
    pair = await pair_for(user)
    sockets = [await signed_in_client(f"{server.ws_url}/ws/events/", pair.access) for server in (first, second)]
    try:
        body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
        url = f"{first.http_url}/api/v1/auth/password/change/"

        assert await asyncio.to_thread(_post_json, url, body, pair.access) == 200

        for ws in sockets:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 1)
            assert closed.value.rcvd.code == 4401
    finally:
        for ws in sockets:
            await ws.close()


def _post_json(url: str, body: dict, access: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {access}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
