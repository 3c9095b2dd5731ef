"""End to end against real daphne processes sharing Redis: awards reach sockets on another process."""

import asyncio
import json

import httpx
import pytest
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect

from game.services import xp_award


async def recv_type(ws, wanted: str, timeout: float = 10) -> dict:
    """The next message of type `wanted` (a widget may first see updates from other awards)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == wanted:
                return message


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
async def test_award_through_one_process_reaches_the_users_socket_and_widgets_on_the_other(daphne, make_user):
    staff = await database_sync_to_async(make_user)("staff", is_staff=True)
    alice = await database_sync_to_async(make_user)("alice")
    staff_token, alice_token = str(AccessToken.for_user(staff)), str(AccessToken.for_user(alice))
    writer, reader = daphne(), daphne()

    async with (
        connect(f"{reader.ws_url}/ws/events/") as events,
        connect(f"{reader.ws_url}/ws/leaderboard/all-time/?size=5") as widget,
        connect(f"{writer.ws_url}/ws/leaderboard/weekly/") as local_widget,
    ):
        await events.send(json.dumps({"type": "auth", "token": alice_token}))
        assert json.loads(await asyncio.wait_for(events.recv(), 10))["type"] == "auth.ok"
        assert json.loads(await asyncio.wait_for(widget.recv(), 10)) == {
            "type": "leaderboard.snapshot",
            "board": "all-time",
            "entries": [],
        }
        assert json.loads(await asyncio.wait_for(local_widget.recv(), 10))["type"] == "leaderboard.snapshot"

        async with httpx.AsyncClient(base_url=writer.http_url) as http:
            response = await http.post(
                "/api/v1/game/awards/",
                json={"user": str(alice.pk), "amount": 40, "reason": "contest.win", "idempotency_key": "e2e"},
                headers={"Authorization": f"Bearer {staff_token}"},
            )
        assert response.status_code == 201, response.text

        assert await recv_type(events, "xp.awarded") == {
            "type": "xp.awarded",
            "amount": 40,
            "reason": "contest.win",
            "total_xp": 40,
            "level": 1,
        }
        update = await recv_type(widget, "leaderboard.update")
        assert update["board"] == "all-time"
        assert update["entries"][0] == {
            "rank": 1,
            "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None},
            "score": 40,
        }
        local = await recv_type(local_widget, "leaderboard.update")
        assert local["entries"][0]["user"]["username"] == "alice"

    for server in (writer, reader):
        assert "Traceback" not in server.log()


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
async def test_a_graded_attempt_elsewhere_reaches_skill_and_challenge_widgets_on_a_server(daphne, make_user, attempt):
    alice = await database_sync_to_async(make_user)("alice")
    server = daphne()

    async with (
        connect(f"{server.ws_url}/ws/leaderboard/skill/") as skill,
        connect(f"{server.ws_url}/ws/leaderboard/challenge-golf/") as golf,
    ):
        for widget in (skill, golf):
            assert json.loads(await asyncio.wait_for(widget.recv(), 10))["entries"] == []
        await database_sync_to_async(attempt)(alice, "a1", challenge="golf", difficulty="expert", score=900)

        entry = {"rank": 1, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}}
        assert (await recv_type(skill, "leaderboard.update"))["entries"] == [{**entry, "score": 3600}]
        assert (await recv_type(golf, "leaderboard.update"))["entries"] == [
            {**entry, "score": 900, "prompt_tokens": 30}
        ]

    assert "Traceback" not in server.log()


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
async def test_widget_hub_still_delivers_after_30s_idle(daphne, make_user):
    # Guards the hub's blocking channel-layer read against client socket timeouts (redis-py 8).
    alice = await database_sync_to_async(make_user)("alice")
    server = daphne()

    async with connect(f"{server.ws_url}/ws/leaderboard/all-time/") as widget:
        assert json.loads(await asyncio.wait_for(widget.recv(), 10))["type"] == "leaderboard.snapshot"
        await asyncio.sleep(31)
        await database_sync_to_async(xp_award)(user_id=alice.pk, amount=5, reason="bonus", idempotency_key="late")
        update = await recv_type(widget, "leaderboard.update")

    assert update["entries"] == [
        {"rank": 1, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}, "score": 5}
    ]
    assert "Traceback" not in server.log()
