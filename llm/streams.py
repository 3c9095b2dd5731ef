"""Run frames in Redis Streams, so `run.resume` works on any server process.

Each run XADDs its `run.token` and terminal frames (capped with MAXLEN, expiring a few minutes
after the last write). A follower replays the frames after a `seq`, then blocks on XREAD until
the terminal frame. The streams' Redis is STREAMS_REDIS_URL (by default REDIS_URL), which also
carries the runs' cancels, heartbeats and followers; without one (dev) there is no store: resume
is served in-process from the live run (see llm.runner).
"""

import asyncio
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from core.redis import async_redis_client, redis_url
from llm import conf
from llm.events import (
    CANCEL_CHANNEL,
    TERMINAL_TYPES,
    run_alive_key,
    run_attached_key,
    run_cancel_key,
    run_stream_key,
)

logger = logging.getLogger(__name__)

ATTACHED_TTL_SECONDS = 5
# Live runs are marked every ALIVE_EVERY_SECONDS; a mark outlives a few missed beats.
ALIVE_EVERY_SECONDS = 3
ALIVE_TTL_SECONDS = 10
FOLLOW_BLOCK_MS = 1000
# A hung Redis fails a command after this long instead of stalling the runs that wait on it.
COMMAND_TIMEOUT_SECONDS = 2.0
FLUSH_TIMEOUT_SECONDS = 3.0
# Frames waiting for Redis beyond this are dropped (resume loses them; live sockets do not).
MAX_BUFFERED_FRAMES = 20_000
# Well below any useful TTL: a live run's stream never expires under it.
EXPIRE_REFRESH_SECONDS = 30


def enabled() -> bool:
    return bool(redis_url("streams"))


def client(timeout: float | None = COMMAND_TIMEOUT_SECONDS) -> aioredis.Redis:
    """This loop's client: every command waits at most `timeout` (None only for pub/sub's listen)."""
    return async_redis_client(role="streams", decode_responses=False, timeout=timeout)


def _after(frame: dict[str, Any], after_seq: int) -> bool:
    return frame["type"] != "run.token" or frame["seq"] > after_seq


# One command per batch: every frame's XADD, then the EXPIREs. Pipelined XADDs cost redis-py
# about three times the client CPU per frame (a command packed and a reply parsed each).
_APPEND_LUA = """
local count = tonumber(ARGV[3])
for i = 1, count do
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'f', ARGV[3 + i])
end
for i = count + 1, #KEYS do
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return count
"""


class _Batcher:
    """Writes frames to Redis in batches: what piles up during one round trip goes in the next.

    Emitting a frame never waits for Redis, and many runs share each round trip. A stream's TTL
    is refreshed on its first frame, every EXPIRE_REFRESH_SECONDS, and on its last frame: not
    once per batch, which would double the commands of a busy process.
    """

    def __init__(self) -> None:
        self.buffer: list[tuple[str, str, bool]] = []
        self.task: asyncio.Task | None = None
        self.expired_at: dict[str, float] = {}  # stream key -> when its TTL was last set
        self._append: Any = None  # the registered script, on this loop's client
        self.dropped = 0  # frames refused while the buffer was full, since the last warning

    def add(self, run_id: str, text: str, final: bool) -> None:
        if len(self.buffer) >= MAX_BUFFERED_FRAMES:
            self.dropped += 1
            return
        self.buffer.append((run_id, text, final))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    def _keys_to_expire(self, batch: list[tuple[str, str, bool]]) -> set[str]:
        now = time.monotonic()
        keys = set()
        for run_id, _, final in batch:
            key = run_stream_key(run_id)
            if final:
                self.expired_at.pop(key, None)
                keys.add(key)
            elif now - self.expired_at.get(key, -EXPIRE_REFRESH_SECONDS) >= EXPIRE_REFRESH_SECONDS:
                self.expired_at[key] = now
                keys.add(key)
        return keys

    async def _write(self, batch: list[tuple[str, str, bool]], maxlen: int, ttl: int) -> None:
        if self._append is None:
            self._append = client().register_script(_APPEND_LUA)
        keys = [run_stream_key(run_id) for run_id, _, _ in batch]
        keys += self._keys_to_expire(batch)
        await self._append(keys=keys, args=[maxlen, ttl, len(batch), *(text for _, text, _ in batch)])

    async def _drain(self) -> None:
        maxlen, ttl = conf.stream_maxlen(), conf.stream_ttl_seconds()
        while self.buffer:
            batch, self.buffer = self.buffer, []
            try:
                await self._write(batch, maxlen, ttl)
            except Exception:
                logger.warning("could not write %d run frames to Redis", len(batch), exc_info=True)
            if self.dropped:
                logger.warning("dropped %d run frames: Redis fell behind", self.dropped)
                self.dropped = 0

    async def flush(self) -> None:
        while self.task is not None and not self.task.done():
            await asyncio.shield(self.task)


_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher]" = weakref.WeakKeyDictionary()


def _batcher() -> _Batcher:
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher()
    return batcher


def append(run_id: str, text: str, *, final: bool = False) -> None:
    """Queue one frame (its JSON text) for the run's stream; written within a Redis round trip.

    `final` marks the run's terminal frame: the stream then lives for the TTL from now.
    """
    _batcher().add(run_id, text, final)


async def flush() -> None:
    """Wait until every queued frame of this process is in Redis."""
    await _batcher().flush()


async def follow(
    run_id: str, after_seq: int, *, finished: Callable[[str], Awaitable[dict[str, Any] | None]]
) -> AsyncIterator[dict[str, Any]]:
    """Frames after `after_seq`, live until the terminal frame.

    `finished(output_so_far)` is asked whenever the stream is idle for a second: it returns the
    terminal frame of a run that has ended without one in the stream (its process died), else None.
    """
    redis = client(timeout=FOLLOW_BLOCK_MS / 1000 + COMMAND_TIMEOUT_SECONDS)
    key = run_stream_key(run_id)
    last_id = "0-0"
    deltas: list[str] = []
    while True:
        await redis.set(run_attached_key(run_id), "1", ex=ATTACHED_TTL_SECONDS)
        reply = await redis.xread({key: last_id}, block=FOLLOW_BLOCK_MS, count=500)
        if not reply:
            terminal = await finished("".join(deltas))
            if terminal is not None:
                yield terminal
                return
            continue
        for entry_id, fields in reply[0][1]:
            last_id = entry_id
            frame = json.loads(fields[b"f"])
            if frame["type"] == "run.token":
                deltas.append(frame["delta"])
            if _after(frame, after_seq):
                yield frame
            if frame["type"] in TERMINAL_TYPES:
                return


async def mark_alive(run_ids: list[str]) -> None:
    """This process is still running these runs."""
    async with client().pipeline(transaction=False) as pipe:
        for run_id in run_ids:
            pipe.set(run_alive_key(run_id), "1", ex=ALIVE_TTL_SECONDS)
        await pipe.execute()


async def is_alive(run_id: str) -> bool:
    return bool(await client().exists(run_alive_key(run_id)))


async def exists(run_id: str) -> bool:
    """Whether the run's stream is still kept."""
    return bool(await client().exists(run_stream_key(run_id)))


async def is_attached(run_id: str) -> bool:
    """Whether a client on some process is following the run."""
    return bool(await client().exists(run_attached_key(run_id)))


async def request_cancel(run_id: str) -> None:
    """Ask whichever process runs `run_id` to cancel it (published now, and kept for its watchdog)."""
    redis = client()
    await redis.set(run_cancel_key(run_id), "1", ex=conf.stream_ttl_seconds())
    await redis.publish(CANCEL_CHANNEL, run_id)


async def announce_cancel(key: str) -> None:
    """Ask whichever process watches `key` (`live_runs.watch_cancel`) to cancel it; heard only live."""
    await client().publish(CANCEL_CHANNEL, key)


async def listen_for_cancels(on_cancel: Callable[[str], None]) -> None:
    """Call `on_cancel(run_id)` for every cancel request published by any process; runs until cancelled."""
    while True:
        try:
            async with client(timeout=None).pubsub() as pubsub:
                await pubsub.subscribe(CANCEL_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        on_cancel(message["data"].decode())
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("run cancel listener lost Redis; reconnecting", exc_info=True)
            await asyncio.sleep(1)


async def cancel_requested(run_id: str) -> bool:
    return bool(await client().exists(run_cancel_key(run_id)))
