"""The project's channel layer: channels-redis' RedisChannelLayer with a cheaper group send."""

import asyncio
import uuid

import pytest
from channels_redis.core import RedisChannelLayer as UpstreamLayer
from django.conf import settings

from config.channel_layer import RedisChannelLayer


def _layers(**config) -> tuple[RedisChannelLayer, UpstreamLayer]:
    prefix = f"test-layer-{uuid.uuid4().hex[:8]}"
    hosts = [{"address": settings.REDIS_URL, "socket_timeout": None}]
    return (
        RedisChannelLayer(hosts=hosts, prefix=prefix, **config),
        UpstreamLayer(hosts=hosts, prefix=prefix, **config),
    )


async def _receive(layer, channel: str, timeout: float = 1.0) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout)


@pytest.mark.asyncio
async def test_group_messages_reach_every_member_and_upstream_receivers_read_them():
    ours, upstream = _layers()
    local = await ours.new_channel()  # a process-local channel ("name!suffix")
    plain = "plain.channel"
    await ours.group_add("room", local)
    await ours.group_add("room", plain)

    await ours.group_send("room", {"type": "hello", "n": 1})

    assert await _receive(ours, local) == {"type": "hello", "n": 1}
    assert await _receive(upstream, plain) == {"type": "hello", "n": 1}  # same keys, same format
    await ours.flush()


@pytest.mark.asyncio
async def test_a_group_without_members_sends_nothing_and_later_members_get_later_messages():
    ours, _ = _layers()
    await ours.group_send("nobody", {"type": "lost"})
    await ours.group_add("nobody", "late.joiner")
    await ours.group_send("nobody", {"type": "kept"})

    assert await _receive(ours, "late.joiner") == {"type": "kept"}
    with pytest.raises(TimeoutError):
        await _receive(ours, "late.joiner", 0.3)
    await ours.flush()


@pytest.mark.asyncio
async def test_capacity_is_enforced_per_channel_as_upstream_does():
    ours, _ = _layers(capacity=2)
    await ours.group_add("busy", "slow.reader")
    for n in range(4):
        await ours.group_send("busy", {"type": "m", "n": n})

    received = [await _receive(ours, "slow.reader") for _ in range(2)]
    assert [m["n"] for m in received] == [0, 1]  # the rest was dropped, not queued
    with pytest.raises(TimeoutError):
        await _receive(ours, "slow.reader", 0.3)
    await ours.flush()


@pytest.mark.asyncio
async def test_expired_members_are_dropped_before_sending():
    ours, _ = _layers(group_expiry=1)
    await ours.group_add("fading", "old.member")
    await asyncio.sleep(2.1)  # membership scores are whole seconds

    await ours.group_send("fading", {"type": "late"})

    with pytest.raises(TimeoutError):
        await _receive(ours, "old.member", 0.3)
    await ours.flush()
