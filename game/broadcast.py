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

# How long a committing service waits for its events to reach the channel layer.
SEND_WAIT_SECONDS = 2.0
# A process sends at most one `leaderboards.changed` notice per this many seconds: the first at
# once, the boards of the next ones merged into one notice at the end of the interval. A notice
# only tells the hubs to re-read a board (and they refresh at most every 250 ms anyway), so one
# per award adds nothing but a channel-layer send here and a receive in every server process:
# at hundreds of awards per second that was a third of an award's CPU.
NOTICE_INTERVAL_SECONDS = 0.05


class Outbox:
    """Collects a service call's events; `send_on_commit` registers one on_commit for all of them.

    Registered inside the service's atomic block, so a rolled-back transaction (or savepoint)
    discards the callback and nothing is sent.
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.after_commit: list[Callable[[], None]] = []
        self.after_send: list[Callable[[], None]] = []

    def add(self, user_id, event: Message) -> None:
        """An event for every socket of `user_id`."""
        self.messages.append((user_group(user_id), {"type": "game.event", "event": event.model_dump(mode="json")}))

    def leaderboards_changed(self, boards: list[str]) -> None:
        """One notice per server process; each process's hub re-reads and fans out locally.

        Sent first: widgets have many sockets to serve, the user's own events only a few.
        """
        self.messages.insert(0, (leaderboards_group(), LeaderboardsChanged(boards=boards).model_dump(mode="json")))

    def then(self, callback: Callable[[], None]) -> None:
        """Run `callback` after commit, before the messages are sent (leaderboard writes)."""
        self.after_commit.append(callback)

    def send_on_commit(self) -> None:
        if self.messages or self.after_commit or self.after_send:
            transaction.on_commit(self.flush)

    def then_later(self, callback: Callable[[], None]) -> None:
        """Run `callback` after commit, once the messages are on their way (slower follow-ups)."""
        self.after_send.append(callback)

    def hand_over(self) -> bool:
        """Queue the committed messages on the process's publisher without waiting (safe on an
        event loop). False, with nothing sent, when that cannot be done: after-commit steps to
        run, or the in-memory layer (its sends must run on the server's loop: use `flush`)."""
        layer = get_channel_layer()
        if self.after_commit or self.after_send or isinstance(layer, InMemoryChannelLayer):
            return False
        if layer is not None and self.messages:
            publisher.submit(self.messages, wait=None)
        return True

    def flush(self) -> None:
        self._run(self.after_commit)
        if self.messages:
            try:
                group_send_many(self.messages)
            except Exception:
                logger.exception("game events could not be sent")
        self._run(self.after_send)

    @staticmethod
    def _run(callbacks: list[Callable[[], None]]) -> None:
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a Redis hiccup must not fail a committed write; the rebuild repairs boards
                logger.exception("game after-commit step failed")


def group_send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Hand the messages to the process's publisher (Redis layers) or send them now (in-memory layer)."""
    layer = get_channel_layer()
    if layer is None:
        return
    if not isinstance(layer, InMemoryChannelLayer):  # Redis layers: sent from the publisher's own loop
        publisher.submit(messages)
        return

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    # The in-memory layer lives on the server's loop; async_to_sync from a service thread runs there.
    async_to_sync(send_all)()


class Publisher:
    """One background event loop per process sending messages in submission order.

    Services return right after commit instead of building an event loop and a Redis connection
    per call; order is kept because one coroutine sends everything, one message after another.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._pending = 0
        self._idle = threading.Condition()
        self._notice_sent_at = float("-inf")
        self._notice_boards: set[str] | None = None  # boards of the notice waiting for its turn

    def submit(self, messages: list[tuple[str, dict[str, Any]]], wait: float | None = SEND_WAIT_SECONDS) -> None:
        """Queue the messages and, if nothing is queued ahead, wait (up to `wait` s; None: not at all)
        until they are sent.

        Waiting keeps this thread off the interpreter lock while the publisher talks to Redis, so
        the events leave at once instead of queueing behind the caller's own work.
        """
        loop, queue = self._running()
        with self._idle:
            backlog = self._pending
            self._pending += 1
        sent: Future = Future()
        loop.call_soon_threadsafe(queue.put_nowait, (messages, sent))
        if backlog or wait is None:  # busy (or stuck on a Redis outage): do not queue up behind it
            return
        try:
            sent.result(timeout=wait)
        except TimeoutError:
            logger.warning("game events still queued after %.1f s; not waiting longer", wait)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted has been sent (process exit, tests)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _running(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: start our own thread
                ready = threading.Event()
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._run, args=(ready,), name="game-events", daemon=True).start()
                ready.wait()
                self._pid = os.getpid()
                self._pending = 0
                self._notice_sent_at, self._notice_boards = float("-inf"), None
            return self._loop, self._queue

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._queue = asyncio.Queue()
        ready.set()
        self._loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        layer = get_channel_layer()
        while True:
            messages, sent = await self._queue.get()
            for group, message in messages:
                if group == leaderboards_group() and not self._notice_now(message["boards"]):
                    continue
                await self._send(layer, group, message)
            sent.set_result(None)
            self._done()

    async def _send(self, layer, group: str, message: dict[str, Any]) -> None:
        try:
            await layer.group_send(group, message)
        except Exception:
            logger.exception("game event to %s could not be sent", group)

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _notice_now(self, boards: list[str]) -> bool:
        """Whether a leaderboard notice goes out now; if not, its boards join the one to come."""
        now = self._loop.time()
        if self._notice_boards is not None:
            self._notice_boards.update(boards)
            return False
        if now - self._notice_sent_at >= NOTICE_INTERVAL_SECONDS:
            self._notice_sent_at = now
            return True
        self._notice_boards = set(boards)
        with self._idle:
            self._pending += 1  # process exit and tests wait for it like for a submitted batch
        self._loop.call_at(self._notice_sent_at + NOTICE_INTERVAL_SECONDS, self._spawn_notice)
        return False

    def _spawn_notice(self) -> None:
        self._loop.create_task(self._send_notice())

    async def _send_notice(self) -> None:
        boards, self._notice_boards = sorted(self._notice_boards or ()), None
        self._notice_sent_at = self._loop.time()
        message = LeaderboardsChanged(boards=boards).model_dump(mode="json")
        await self._send(get_channel_layer(), leaderboards_group(), message)
        self._done()


publisher = Publisher()
# Short-lived processes (commands, scripts) send what they committed before exiting.
atexit.register(publisher.wait_idle, 2.0)
