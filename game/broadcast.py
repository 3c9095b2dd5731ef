"""Live events leave only after the writing transaction commits, in one batch per service call."""

import asyncio
import atexit
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from game.events import LeaderboardsChanged, Message, leaderboards_group, user_group

logger = logging.getLogger(__name__)

Batch = list[tuple[str, dict[str, Any]]]


class Outbox:
    """A service call's events and after-commit steps; `send_on_commit` registers one on_commit for them.

    Registered inside the service's atomic block, so a rolled-back transaction (or savepoint)
    discards it and nothing is sent.
    """

    def __init__(self) -> None:
        self.messages: Batch = []
        self.before_send: list[Callable[[], None]] = []
        self.after_send: list[Callable[[], None]] = []

    def add(self, user_id, event: Message) -> None:
        """An event for every socket of `user_id`."""
        self.messages.append((user_group(user_id), {"type": "game.event", "event": event.model_dump(mode="json")}))

    def leaderboards_changed(self, boards: list[str]) -> None:
        """One notice to every server process's hub, which re-reads the boards and fans out locally."""
        self.messages.append((leaderboards_group(), LeaderboardsChanged(boards=boards).model_dump(mode="json")))

    def then(self, callback: Callable[[], None]) -> None:
        """Run `callback` after commit, before the messages are sent (the leaderboard write they announce)."""
        self.before_send.append(callback)

    def then_later(self, callback: Callable[[], None]) -> None:
        """Run `callback` after commit, once the messages are on their way (writes with events of their own)."""
        self.after_send.append(callback)

    def send_on_commit(self) -> None:
        if self.messages or self.before_send or self.after_send:
            transaction.on_commit(self.flush)

    def flush(self) -> None:
        _run(self.before_send)
        layer = get_channel_layer()
        if self.messages and layer is not None:
            if isinstance(layer, InMemoryChannelLayer):
                # The in-memory layer lives on the server's loop; async_to_sync from a service thread runs there.
                async_to_sync(_send_all)(layer, self.messages)
            else:
                publisher.submit(self.messages)
        _run(self.after_send)


def _run(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a Redis hiccup must not fail a committed write; the rebuild repairs boards
            logger.exception("game after-commit step failed")


# Live events are best effort (the ledgers are the truth): a hung Redis costs each send at most
# this long, and a publisher that falls this many batches behind drops new ones.
SEND_TIMEOUT_SECONDS = 2.0
MAX_PENDING_BATCHES = 10_000


async def _send_all(layer, messages: Batch) -> None:
    for group, message in messages:
        try:
            await asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT_SECONDS)
        except Exception:
            logger.warning("game event to %s could not be sent", group, exc_info=True)


class Publisher:
    """One event loop thread per process sends every committed batch, in submission order.

    Services hand their batch over and return, instead of starting an event loop and a Redis
    connection per call; one coroutine sends everything, so a user's events arrive in the order
    their transactions committed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None

    def submit(self, messages: Batch) -> Future:
        """Queue the batch; the future resolves once it has been sent."""
        loop, queue = self._running()
        sent: Future = Future()
        loop.call_soon_threadsafe(self._offer, queue, messages, sent)
        return sent

    @staticmethod
    def _offer(queue: asyncio.Queue, messages: Batch, sent: Future) -> None:
        try:
            queue.put_nowait((messages, sent))
        except asyncio.QueueFull:
            logger.warning("dropping %d game events: the channel layer is not keeping up", len(messages))
            sent.set_result(None)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every batch submitted so far has been sent (process exit, tests)."""
        if self._pid != os.getpid():
            return True
        try:
            self.submit([]).result(timeout)
        except TimeoutError:
            return False
        return True

    def _running(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: start our own thread
                ready = threading.Event()
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._run, args=(ready,), name="game-events", daemon=True).start()
                ready.wait()
                self._pid = os.getpid()
            return self._loop, self._queue

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._queue = asyncio.Queue(maxsize=MAX_PENDING_BATCHES)
        ready.set()
        self._loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        layer = get_channel_layer()
        while True:
            messages, sent = await self._queue.get()
            await _send_all(layer, messages)
            sent.set_result(None)


publisher = Publisher()
# Short-lived processes (commands, scripts) send what they committed before exiting.
atexit.register(publisher.wait_idle, 2.0)
