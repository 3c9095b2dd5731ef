"""The per-process leaderboard hub: one channel-layer member per server process, local fan-out.

Each award publishes one `leaderboards.changed` notice to `leaderboards_group()`. Every process
has one hub channel in that group (not one per widget socket), so a notice costs one
channel-layer message per process. The hub refreshes a board at most once per MIN_INTERVAL (the
first notice at once), reads the top entries once, and hands them to its local widgets; each
widget sends only when the ranks it shows changed.
"""

import asyncio
import functools
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from channels.layers import get_channel_layer

from game.events import LeaderboardUpdate, leaderboards_group
from game.leaderboards.reads import leaderboard_top_async

logger = logging.getLogger(__name__)

MAX_WIDGET_SIZE = 100
# A widget shows at most 1 / MIN_INTERVAL updates per second, however fast awards come.
MIN_INTERVAL = 0.25
# Well within channels-redis' group_expiry (1 day).
GROUP_REFRESH_SECONDS = 3600.0

Entries = list[dict[str, Any]]


class Widget(Protocol):
    board: str

    async def show(self, entries: Entries, frame: Callable[[int], str]) -> None: ...


async def read_top(board: str) -> Entries:
    """The board's top entries, as many as the largest widget shows."""
    return [entry.as_entry() for entry in await leaderboard_top_async(board=board, limit=MAX_WIDGET_SIZE)]


async def keep_joined(layer, group: str, channel: str) -> None:
    """Re-join `group` every GROUP_REFRESH_SECONDS: channels-redis forgets members after group_expiry."""
    while True:
        await asyncio.sleep(GROUP_REFRESH_SECONDS)
        try:
            await layer.group_add(group, channel)
        except Exception:  # Redis hiccup: try again next round rather than lose the task
            logger.warning("could not re-join %s", group, exc_info=True)


def update_frames(board: str, entries: Entries) -> Callable[[int], str]:
    """`leaderboard.update` text for a widget of a given size, encoded once per size."""
    return functools.cache(lambda size: LeaderboardUpdate(board=board, entries=entries[:size]).model_dump_json())


class LeaderboardHub:
    def __init__(self) -> None:
        self.widgets: dict[str, set[Widget]] = {}
        self._channel: str | None = None
        self._listener: asyncio.Task | None = None
        self._start_lock = asyncio.Lock()
        self._last_refresh: dict[str, float] = {}
        self._scheduled: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

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
            self._channel = await layer.new_channel()
            await layer.group_add(leaderboards_group(), self._channel)
            self._listener = asyncio.get_running_loop().create_task(self._listen(layer))

    async def _listen(self, layer) -> None:
        rejoin = asyncio.get_running_loop().create_task(keep_joined(layer, leaderboards_group(), self._channel))
        try:
            while True:
                try:
                    message = await layer.receive(self._channel)
                except asyncio.CancelledError:
                    raise
                except Exception:  # Redis hiccup: keep the hub alive and retry
                    logger.exception("leaderboard hub receive failed")
                    await asyncio.sleep(1.0)
                    continue
                if message.get("type") == "leaderboards.changed":
                    for board in message.get("boards", []):
                        self.notify(board)
        finally:
            rejoin.cancel()

    def notify(self, board: str) -> None:
        """A board changed: refresh now, or once at the end of the current interval."""
        if not self.widgets.get(board) or board in self._scheduled:
            return
        self._scheduled.add(board)
        wait = self._last_refresh.get(board, 0.0) + MIN_INTERVAL - time.monotonic()
        asyncio.get_running_loop().call_later(max(wait, 0.0), self._spawn_refresh, board)

    def _spawn_refresh(self, board: str) -> None:
        task = asyncio.get_running_loop().create_task(self._refresh(board))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, board: str) -> None:
        self._last_refresh[board] = time.monotonic()
        self._scheduled.discard(board)
        try:
            entries = await read_top(board)
        except Exception:
            logger.exception("leaderboard read failed")
            return
        frame = update_frames(board, entries)
        for widget in list(self.widgets.get(board, ())):
            try:
                await widget.show(entries, frame)
            except Exception:
                logger.exception("leaderboard widget send failed")


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LeaderboardHub]" = weakref.WeakKeyDictionary()


def leaderboard_hub() -> LeaderboardHub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = LeaderboardHub()
    return _hubs[loop]
