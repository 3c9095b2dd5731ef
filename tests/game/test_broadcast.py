"""The publisher: committed events leave in commit order; every award tells the hubs once."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from game.broadcast import publisher
from game.events import leaderboards_group, user_group
from game.services import xp_award

pytestmark = pytest.mark.django_db(transaction=True)


async def _received(channel: str) -> list[dict]:
    layer, messages = get_channel_layer(), []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), 0.5))
        except TimeoutError:
            return messages


def _listening(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def test_every_award_sends_one_leaderboard_notice(make_user):
    channel = _listening(leaderboards_group())
    user = make_user("n")

    for i in range(3):
        xp_award(user_id=user.pk, amount=10, reason="bonus", idempotency_key=f"n{i}")
    assert publisher.wait_idle(10)

    notices = async_to_sync(_received)(channel)
    assert notices == [{"type": "leaderboards.changed", "boards": ["all-time", "monthly", "weekly"]}] * 3


def test_a_users_events_arrive_in_commit_order(make_user):
    user = make_user("ordered")
    channel = _listening(user_group(user.pk))

    for i in range(5):
        xp_award(user_id=user.pk, amount=i + 1, reason="bonus", idempotency_key=f"o{i}")
    assert publisher.wait_idle(10)

    received = [m["event"] for m in async_to_sync(_received)(channel)]
    assert [(e["type"], e["amount"], e["total_xp"]) for e in received] == [
        ("xp.awarded", 1, 1),
        ("xp.awarded", 2, 3),
        ("xp.awarded", 3, 6),
        ("xp.awarded", 4, 10),
        ("xp.awarded", 5, 15),
    ]
