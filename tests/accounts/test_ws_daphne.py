"""An authenticated socket served by a real daphne process with the Redis channel layer."""

import asyncio
import json

import pytest
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
async def test_authenticated_socket_stays_open_and_usable_after_30s_idle(daphne, user):
    # Guards redis-py 8's 5 s default socket_timeout, which kills idle channels-redis consumers (code 1011).
    token = str(AccessToken.for_user(user))
    server = daphne()

    async with connect(f"{server.ws_url}/ws/events/") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "auth.ok"

        await asyncio.sleep(31)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))

    assert reply == {"type": "auth.ok", "user": {"id": str(user.pk), "username": user.username}, "renewed": True}
    assert "1011" not in server.log()
    assert "Traceback" not in server.log()
