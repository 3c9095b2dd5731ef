"""/ws/events/ and /ws/leaderboard/{board}/ against the real ASGI application and Redis layer."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from rest_framework_simplejwt.tokens import RefreshToken

from config.asgi import application
from game.services import activity_record, credits_spend, xp_award

pytestmark = pytest.mark.django_db(transaction=True)


def access_token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


async def events_socket(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/events/")
    connected, _ = await communicator.connect()
    assert connected
    token = await database_sync_to_async(access_token)(user)
    await communicator.send_json_to({"type": "auth", "token": token})
    assert (await communicator.receive_json_from())["type"] == "auth.ok"
    return communicator


async def test_an_award_reaches_every_socket_of_its_user_and_nobody_else(make_user):
    alice, bob = await database_sync_to_async(make_user)("alice"), await database_sync_to_async(make_user)("bob")
    first, second, other = await events_socket(alice), await events_socket(alice), await events_socket(bob)
    try:
        await database_sync_to_async(xp_award)(user_id=alice.pk, amount=40, reason="bonus", idempotency_key="b:1")

        expected = {"type": "xp.awarded", "amount": 40, "reason": "bonus", "total_xp": 40, "level": 1}
        assert await first.receive_json_from(timeout=3) == expected
        assert await second.receive_json_from(timeout=3) == expected
        assert await other.receive_nothing(timeout=0.5)
    finally:
        for socket in (first, second, other):
            await socket.disconnect()


async def test_level_up_badge_streak_and_credit_events_arrive_in_order(make_user):
    alice = await database_sync_to_async(make_user)("alice")
    socket = await events_socket(alice)
    try:
        await database_sync_to_async(xp_award)(user_id=alice.pk, amount=100, reason="bonus", idempotency_key="b:1")
        assert [await socket.receive_json_from(timeout=3) for _ in range(3)] == [
            {"type": "xp.awarded", "amount": 100, "reason": "bonus", "total_xp": 100, "level": 2},
            {"type": "credits.changed", "balance": 120, "delta": 20, "reason": "level.up"},
            {"type": "level.up", "level": 2, "rank": "Prompt Novice"},
        ]

        await database_sync_to_async(activity_record)(
            user_id=alice.pk, activity="template.created", idempotency_key="t:1"
        )
        received = [await socket.receive_json_from(timeout=3) for _ in range(5)]
        assert received == [
            {"type": "xp.awarded", "amount": 20, "reason": "template.created", "total_xp": 120, "level": 2},
            {"type": "streak.updated", "days": 1},
            {
                "type": "badge.unlocked",
                "badge": {
                    "slug": "author-1",
                    "name": "First Draft",
                    "description": "Create your first template.",
                    "tier": "bronze",
                },
            },
            {"type": "xp.awarded", "amount": 10, "reason": "badge.unlocked", "total_xp": 130, "level": 2},
            {"type": "credits.changed", "balance": 125, "delta": 5, "reason": "badge.unlocked"},
        ]
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


async def test_a_rolled_back_change_sends_no_event(make_user):
    alice = await database_sync_to_async(make_user)("alice")
    socket = await events_socket(alice)

    def spend_then_fail() -> None:
        with transaction.atomic():
            credits_spend(user_id=alice.pk, amount=10, reason="run", idempotency_key="run:1:reserve")
            xp_award(user_id=alice.pk, amount=10, reason="bonus", idempotency_key="b:1")
            raise RuntimeError("the run failed to start")

    try:
        with pytest.raises(RuntimeError):
            await database_sync_to_async(spend_then_fail)()
        assert await socket.receive_nothing(timeout=0.5)

        await database_sync_to_async(credits_spend)(
            user_id=alice.pk, amount=10, reason="run", idempotency_key="run:2:reserve"
        )
        assert await socket.receive_json_from(timeout=3) == {
            "type": "credits.changed",
            "balance": 90,
            "delta": -10,
            "reason": "run",
        }
    finally:
        await socket.disconnect()


async def test_events_socket_rejects_client_messages_it_does_not_know(make_user):
    alice = await database_sync_to_async(make_user)("alice")
    socket = await events_socket(alice)
    try:
        await socket.send_json_to({"type": "xp.awarded", "amount": 1000})
        reply = await socket.receive_json_from()
        assert (reply["type"], reply["code"]) == ("error", "unknown_type")
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from() == {"type": "pong"}
    finally:
        await socket.disconnect()


async def test_events_socket_needs_a_valid_token():
    socket = WebsocketCommunicator(application, "/ws/events/")
    await socket.connect()
    try:
        await socket.send_json_to({"type": "auth", "token": "not-a-jwt"})
        assert (await socket.receive_json_from())["code"] == "invalid_token"
        assert (await socket.receive_output(timeout=1))["code"] == 4401
    finally:
        await socket.disconnect()


async def widget_socket(path: str, **kwargs) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, path, **kwargs)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def test_skill_widget_gets_a_snapshot_then_an_update_after_an_award(make_user, attempt):
    alice, bob = [await database_sync_to_async(make_user)(name) for name in ("alice", "bob")]
    await database_sync_to_async(attempt)(alice, "a1", challenge="one", score=600)
    socket = await widget_socket("/ws/leaderboard/skill/?size=2")
    try:
        alice_entry = {"rank": 1, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}, "score": 600}
        assert await socket.receive_json_from(timeout=3) == {
            "type": "leaderboard.snapshot",
            "board": "skill",
            "entries": [alice_entry],
        }

        await database_sync_to_async(attempt)(bob, "b1", challenge="two", difficulty="advanced", score=300)
        assert await socket.receive_json_from(timeout=3) == {
            "type": "leaderboard.update",
            "board": "skill",
            "entries": [
                {"rank": 1, "user": {"id": str(bob.pk), "username": "bob", "avatar_url": None}, "score": 900},
                {**alice_entry, "rank": 2},
            ],
        }
    finally:
        await socket.disconnect()


async def test_challenge_widget_starts_empty_then_shows_bests_with_their_tokens(make_user, attempt):
    alice, bob = [await database_sync_to_async(make_user)(name) for name in ("alice", "bob")]
    socket = await widget_socket("/ws/leaderboard/challenge-golf/")
    try:
        assert await socket.receive_json_from(timeout=3) == {
            "type": "leaderboard.snapshot",
            "board": "challenge-golf",
            "entries": [],
        }

        await database_sync_to_async(attempt)(alice, "a1", challenge="golf", score=1000, prompt_tokens=14)
        await database_sync_to_async(attempt)(bob, "b1", challenge="golf", score=1000, prompt_tokens=12)
        await database_sync_to_async(attempt)(bob, "b2", challenge="other", score=1000, prompt_tokens=1)
        updates = [await socket.receive_json_from(timeout=3)]
        while not await socket.receive_nothing(timeout=0.6):
            updates.append(await socket.receive_json_from())
        assert updates[-1] == {
            "type": "leaderboard.update",
            "board": "challenge-golf",
            "entries": [
                {
                    "rank": 1,
                    "user": {"id": str(bob.pk), "username": "bob", "avatar_url": None},
                    "score": 1000,
                    "prompt_tokens": 12,
                },
                {
                    "rank": 2,
                    "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None},
                    "score": 1000,
                    "prompt_tokens": 14,
                },
            ],
        }
    finally:
        await socket.disconnect()


async def test_widget_gets_a_snapshot_then_updates_when_ranks_change(make_user):
    alice, bob, carol = [await database_sync_to_async(make_user)(name) for name in ("alice", "bob", "carol")]
    await database_sync_to_async(xp_award)(user_id=alice.pk, amount=30, reason="bonus", idempotency_key="a")
    await database_sync_to_async(xp_award)(user_id=bob.pk, amount=20, reason="bonus", idempotency_key="b")
    socket = await widget_socket("/ws/leaderboard/all-time/?size=2")
    try:
        assert await socket.receive_json_from(timeout=3) == {
            "type": "leaderboard.snapshot",
            "board": "all-time",
            "entries": [
                {"rank": 1, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}, "score": 30},
                {"rank": 2, "user": {"id": str(bob.pk), "username": "bob", "avatar_url": None}, "score": 20},
            ],
        }

        await database_sync_to_async(xp_award)(user_id=carol.pk, amount=5, reason="bonus", idempotency_key="c")
        assert await socket.receive_nothing(timeout=0.6)  # carol is third: the shown ranks did not change

        await database_sync_to_async(xp_award)(user_id=bob.pk, amount=20, reason="bonus", idempotency_key="b2")
        assert await socket.receive_json_from(timeout=3) == {
            "type": "leaderboard.update",
            "board": "all-time",
            "entries": [
                {"rank": 1, "user": {"id": str(bob.pk), "username": "bob", "avatar_url": None}, "score": 40},
                {"rank": 2, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}, "score": 30},
            ],
        }
    finally:
        await socket.disconnect()


async def test_widget_updates_are_coalesced_under_a_burst_of_awards(make_user):
    alice = await database_sync_to_async(make_user)("alice")
    socket = await widget_socket("/ws/leaderboard/weekly/")
    try:
        assert (await socket.receive_json_from(timeout=3))["entries"] == []

        def burst() -> None:
            for i in range(30):
                xp_award(user_id=alice.pk, amount=1, reason="bonus", idempotency_key=f"b:{i}")

        await database_sync_to_async(burst)()
        updates = []
        while not await socket.receive_nothing(timeout=0.8):
            updates.append(await socket.receive_json_from())
        assert 1 <= len(updates) < 30
        assert updates[-1]["entries"] == [
            {"rank": 1, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}, "score": 30}
        ]
    finally:
        await socket.disconnect()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/ws/leaderboard/daily/", "Unknown board 'daily'."),
        ("/ws/leaderboard/challenge-/", "Unknown board 'challenge-'."),
        ("/ws/leaderboard/challenge-no.dots/", "Unknown board 'challenge-no.dots'."),
        ("/ws/leaderboard/weekly/?size=500", "size must be 1..100."),
        ("/ws/leaderboard/weekly/?size=ten", "size must be 1..100."),
    ],
)
async def test_widget_refuses_bad_boards_and_sizes(path, message):
    socket = await widget_socket(path)
    try:
        assert await socket.receive_json_from() == {"type": "error", "code": "invalid_request", "message": message}
        assert (await socket.receive_output(timeout=1))["code"] == 4400
    finally:
        await socket.disconnect()


async def test_widget_is_read_only():
    socket = await widget_socket("/ws/leaderboard/monthly/")
    try:
        await socket.receive_json_from()
        await socket.send_json_to({"type": "leaderboard.update", "entries": []})
        assert (await socket.receive_json_from())["code"] == "read_only"
    finally:
        await socket.disconnect()


async def test_widget_origins_allow_listed_foreign_pages_only(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["https://blog.example"]
    allowed = WebsocketCommunicator(
        application, "/ws/leaderboard/weekly/", headers=[(b"origin", b"https://blog.example")]
    )
    refused = WebsocketCommunicator(
        application, "/ws/leaderboard/weekly/", headers=[(b"origin", b"https://evil.example")]
    )
    events = WebsocketCommunicator(application, "/ws/events/", headers=[(b"origin", b"https://blog.example")])
    try:
        assert (await allowed.connect())[0] is True
        assert (await refused.connect())[0] is False
        assert (await events.connect())[0] is False  # the widget allowance is for the widget socket only
    finally:
        await allowed.disconnect()


async def test_widget_snapshot_comes_from_sql_when_redis_reads_fail(make_user, monkeypatch):
    import redis
    import redis.asyncio as aioredis

    from game.leaderboards import reads
    from game.leaderboards.rebuild import leaderboard_rebuild

    alice = await database_sync_to_async(make_user)("alice")
    await database_sync_to_async(xp_award)(user_id=alice.pk, amount=30, reason="bonus", idempotency_key="a")
    await database_sync_to_async(leaderboard_rebuild)()
    monkeypatch.setattr(reads, "async_redis_client", lambda **_: aioredis.Redis(port=1, socket_connect_timeout=0.2))
    monkeypatch.setattr(reads, "redis_client", lambda **_: redis.Redis(port=1, socket_connect_timeout=0.2))

    socket = await widget_socket("/ws/leaderboard/all-time/")
    try:
        assert (await socket.receive_json_from(timeout=5))["entries"] == [
            {"rank": 1, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}, "score": 30}
        ]
    finally:
        await socket.disconnect()


async def test_a_widget_connecting_right_after_an_award_ends_up_showing_it(make_user):
    alice = await database_sync_to_async(make_user)("alice")
    first = await widget_socket("/ws/leaderboard/all-time/")
    try:
        assert (await first.receive_json_from(timeout=3))["entries"] == []  # read now cached for 250 ms

        await database_sync_to_async(xp_award)(user_id=alice.pk, amount=7, reason="bonus", idempotency_key="a")
        second = await widget_socket("/ws/leaderboard/all-time/")
        try:
            shown = (await second.receive_json_from(timeout=3))["entries"]
            if shown == []:  # the snapshot raced the change notice: the update must follow
                shown = (await second.receive_json_from(timeout=3))["entries"]
            assert shown == [
                {"rank": 1, "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None}, "score": 7}
            ]
        finally:
            await second.disconnect()
    finally:
        await first.disconnect()
