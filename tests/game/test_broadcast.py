"""The publisher: events leave after commit; leaderboard notices faster than one per interval merge."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from game import broadcast
from game.broadcast import publisher
from game.events import leaderboards_group
from game.services import xp_award

pytestmark = pytest.mark.django_db(transaction=True)


async def _received(channel: str) -> list[dict]:
    layer, messages = get_channel_layer(), []
    while True:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), 0.5))
        except TimeoutError:
            return messages


def test_leaderboard_notices_within_the_interval_merge_into_one_that_still_comes(make_user, monkeypatch):
    monkeypatch.setattr(broadcast, "NOTICE_INTERVAL_SECONDS", 3.0)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(leaderboards_group(), channel)
    users = [make_user(f"n{i}") for i in range(6)]

    for user in users:
        xp_award(user_id=user.pk, amount=10, reason="bonus", idempotency_key="n")
    assert publisher.wait_idle(10)  # counts the merged notice still to come

    notices = async_to_sync(_received)(channel)
    # The first award's notice went at once (unless an earlier one was within the interval);
    # the other awards' boards came together, once the interval was over.
    assert 1 <= len(notices) <= 2
    assert all(n["type"] == "leaderboards.changed" for n in notices)
    assert notices[-1]["boards"] == ["all-time", "monthly", "weekly"]


def test_a_notice_after_a_quiet_interval_leaves_at_once(make_user, monkeypatch):
    monkeypatch.setattr(broadcast, "NOTICE_INTERVAL_SECONDS", 0.2)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(leaderboards_group(), channel)
    user = make_user("quiet")
    assert publisher.wait_idle(10)
    async_to_sync(asyncio.sleep)(0.3)

    xp_award(user_id=user.pk, amount=10, reason="bonus", idempotency_key="q")

    async def first_notice() -> dict:
        return await asyncio.wait_for(layer.receive(channel), 0.15)  # well before the interval ends

    assert async_to_sync(first_notice)()["boards"] == ["all-time", "monthly", "weekly"]


async def test_hand_over_queues_committed_messages_from_an_event_loop_without_waiting(user):
    from game.events import CreditsChanged, user_group

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group(user.pk), channel)
    outbox = broadcast.Outbox()
    outbox.add(user.pk, CreditsChanged(balance=7, delta=-3, reason="run.reserve"))

    assert outbox.hand_over()  # returns at once: the publisher's thread sends it

    received = await _received(channel)
    assert [m["event"] for m in received] == [
        {"type": "credits.changed", "balance": 7, "delta": -3, "reason": "run.reserve"}
    ]


def test_hand_over_declines_an_outbox_with_after_commit_steps(user):
    outbox = broadcast.Outbox()
    steps: list[str] = []
    outbox.then(lambda: steps.append("ran"))

    assert not outbox.hand_over()
    assert steps == []  # nothing ran: the caller flushes it instead
