"""The per-process leaderboard hub: one channel-layer member per server process, local fan-out.

Each award publishes one `leaderboards.changed` notice to `leaderboards_group()`. Every process
has one hub channel in that group (not one per widget socket), so a notice costs one
channel-layer message per process. The hub coalesces notices per board (at most one refresh per
MIN_INTERVAL, the first one immediately), reads the top entries once, and hands them to its local
widgets; each widget sends only when the ranks it shows changed.
"""

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from game import leaderboards
from game.events import LeaderboardUpdate, leaderboards_group

logger = logging.getLogger(__name__)

MAX_WIDGET_SIZE = 100
# At most 1 / MIN_INTERVAL refreshes per second per board per process.
MIN_INTERVAL = 0.25
# Widgets served per event-loop turn during a fan-out.
SEND_BATCH = 50
# Re-join the group well within channels-redis' group_expiry (1 day).
GROUP_REFRESH_SECONDS = 3600.0


class Widget(Protocol):
    board: str
    size: int

    async def show(self, entries: list[dict[str, Any]], encoded: Callable[[int], str]) -> None: ...


def _read_top(board: str) -> list[dict[str, Any]]:
    return [entry.as_entry() for entry in leaderboards.leaderboard_top(board=board, limit=MAX_WIDGET_SIZE)]


_read_top_sql: Callable[[str], Awaitable[list[dict[str, Any]]]] = database_sync_to_async(_read_top)


async def read_top(board: str) -> list[dict[str, Any]]:
    """The board's top entries: from Redis on this loop, or from SQL in a thread when Redis is not ready."""
    cached = await leaderboards.leaderboard_top_cached(board=board, limit=MAX_WIDGET_SIZE)
    if cached is not None:
        return [entry.as_entry() for entry in cached]
    return await _read_top_sql(board)


class LeaderboardHub:
    def __init__(self) -> None:
        self.widgets: dict[str, set[Widget]] = {}
        self.channel_name: str | None = None
        self._listener: asyncio.Task | None = None
        self._start_lock = asyncio.Lock()
        self._last_refresh: dict[str, float] = {}
        self._scheduled: dict[str, asyncio.TimerHandle | asyncio.Task] = {}
        self._tasks: set[asyncio.Task] = set()
        # Last read per board, shared by snapshots of widgets connecting in a burst; a change notice
        # bumps the generation so a read that overlapped a change is not kept.
        self._latest: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._generation: dict[str, int] = {}

    async def snapshot(self, board: str) -> list[dict[str, Any]]:
        """The board's current top entries, read at most once per MIN_INTERVAL while nothing changes."""
        cached = self._latest.get(board)
        if cached is not None and time.monotonic() - cached[0] < MIN_INTERVAL:
            return cached[1]
        return await self._read(board)

    async def _read(self, board: str) -> list[dict[str, Any]]:
        generation, started = self._generation.get(board, 0), time.monotonic()
        entries = await read_top(board)
        if self._generation.get(board, 0) == generation:
            self._latest[board] = (started, entries)
        return entries

    async def join(self, widget: Widget) -> None:
        await self._ensure_listening()
        self.widgets.setdefault(widget.board, set()).add(widget)

    def leave(self, widget: Widget) -> None:
        self.widgets.get(widget.board, set()).discard(widget)

    async def _ensure_listening(self) -> None:
        async with self._start_lock:
            if self._listener is not None and not self._listener.done():
                return
            layer = get_channel_layer()
            if layer is None:
                return
            self.channel_name = await layer.new_channel()
            await layer.group_add(leaderboards_group(), self.channel_name)
            self._listener = asyncio.get_running_loop().create_task(self._listen(layer))

    async def _listen(self, layer) -> None:
        rejoin = asyncio.get_running_loop().create_task(self._keep_joined(layer))
        try:
            await self._receive_forever(layer)
        finally:
            rejoin.cancel()

    async def _keep_joined(self, layer) -> None:
        while True:
            await asyncio.sleep(GROUP_REFRESH_SECONDS)
            try:
                await layer.group_add(leaderboards_group(), self.channel_name)
            except Exception:
                logger.exception("leaderboard hub could not re-join its group")

    async def _receive_forever(self, layer) -> None:
        while True:
            try:
                message = await layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis hiccup: keep the hub alive and retry
                logger.exception("leaderboard hub receive failed")
                await asyncio.sleep(1.0)
                continue
            if message.get("type") == "leaderboards.changed":
                for board in message.get("boards", []):
                    self.notify(board)

    def notify(self, board: str) -> None:
        """A board changed: refresh now, or once at the end of the current coalescing window."""
        self._generation[board] = self._generation.get(board, 0) + 1
        self._latest.pop(board, None)
        if not self.widgets.get(board) or board in self._scheduled:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_refresh.get(board, 0.0) + MIN_INTERVAL - time.monotonic()
        if wait <= 0:
            self._scheduled[board] = self._spawn(self._refresh(board))
        else:
            self._scheduled[board] = loop.call_later(wait, lambda: self._spawn(self._refresh(board)))

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _refresh(self, board: str) -> None:
        self._last_refresh[board] = time.monotonic()
        try:
            entries = await self._read(board)
        except Exception:
            logger.exception("leaderboard read failed")
            return
        finally:
            self._scheduled.pop(board, None)
        cache: dict[int, str] = {}

        def encoded(size: int) -> str:
            if size not in cache:  # one encoding per distinct widget size, shared by all widgets
                cache[size] = LeaderboardUpdate(board=board, entries=entries[:size]).model_dump_json()
            return cache[size]

        for index, widget in enumerate(list(self.widgets.get(board, ()))):
            if index and index % SEND_BATCH == 0:
                # Sends are buffered until the loop turns: let the server write each batch out.
                await asyncio.sleep(0)
            try:
                await widget.show(entries, encoded)
            except Exception:
                logger.exception("leaderboard widget send failed")


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LeaderboardHub]" = weakref.WeakKeyDictionary()


def leaderboard_hub() -> LeaderboardHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LeaderboardHub()
    return hub
