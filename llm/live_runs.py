"""The live (and recently finished) runs of this server process: for resume, cross-process cancels,
heartbeats and shutdown.

Something live here that is not a run but can be cancelled from any process (a graded attempt)
registers with `watch_cancel`: a cancel published for its id reaches it like a run's.
"""

import asyncio
import logging
import sys
import weakref
from collections.abc import Callable
from typing import Protocol

from llm import streams

logger = logging.getLogger(__name__)

FINISHED_RETENTION_SECONDS = 120
STOP_CANCEL = "cancel"  # the client asked
STOP_ABANDONED = "abandoned"  # its sockets closed and nobody resumed it in time
STOP_INTERRUPTED = "interrupted"  # the server is shutting down


class LiveRun(Protocol):
    run_id: str
    task: asyncio.Task | None
    done: asyncio.Event

    def stop(self, reason: str) -> None: ...


class LiveRuns:
    def __init__(self) -> None:
        self.runs: dict[str, LiveRun] = {}
        self.cancel_watchers: dict[str, Callable[[], None]] = {}
        self._shutdown_hooked = False
        self._loop_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Task]] = (
            weakref.WeakKeyDictionary()
        )

    def add(self, run: LiveRun) -> None:
        self.runs[run.run_id] = run
        self._hook_shutdown()
        if streams.enabled():
            self._keep_running("cancels", lambda: streams.listen_for_cancels(self._cancel_requested))
            self._keep_running("heartbeat", self._heartbeat)

    def watch_cancel(self, key: str, on_cancel: Callable[[], None]) -> None:
        """Call `on_cancel` when any process asks to cancel `key`, until `unwatch_cancel(key)`."""
        self.cancel_watchers[key] = on_cancel
        if streams.enabled():
            self._keep_running("cancels", lambda: streams.listen_for_cancels(self._cancel_requested))

    def unwatch_cancel(self, key: str) -> None:
        self.cancel_watchers.pop(key, None)

    def get(self, run_id: str) -> LiveRun | None:
        return self.runs.get(run_id)

    def finished(self, run: LiveRun) -> None:
        """Keep a finished run for late resumes a while, then forget it."""
        asyncio.get_running_loop().call_later(FINISHED_RETENTION_SECONDS, self.runs.pop, run.run_id, None)

    def _live_here(self) -> list[LiveRun]:
        loop = asyncio.get_running_loop()
        return [
            r for r in self.runs.values() if r.task is not None and not r.done.is_set() and r.task.get_loop() is loop
        ]

    def _keep_running(self, name: str, start) -> None:
        """One task of this kind per event loop, started again once it has ended."""
        tasks = self._loop_tasks.setdefault(asyncio.get_running_loop(), {})
        task = tasks.get(name)
        if task is None or task.done():
            tasks[name] = asyncio.get_running_loop().create_task(start(), name=f"llm-live-runs-{name}")

    async def _heartbeat(self) -> None:
        """Mark this loop's live runs as alive, so followers elsewhere can tell if this process died."""
        while live := self._live_here():
            try:
                await streams.mark_alive([r.run_id for r in live])
            except Exception:
                logger.warning("could not mark %d runs alive", len(live), exc_info=True)
            await asyncio.sleep(streams.ALIVE_EVERY_SECONDS)

    def _cancel_requested(self, key: str) -> None:
        run = self.runs.get(key)
        if run is not None:
            run.stop(STOP_CANCEL)
        elif (on_cancel := self.cancel_watchers.get(key)) is not None:
            on_cancel()

    async def interrupt_all(self) -> None:
        """Stop every live run of this loop as interrupted and wait until each has settled."""
        live = self._live_here()
        for run in live:
            run.stop(STOP_INTERRUPTED)
        if live:
            logger.info("settling %d live runs before shutdown", len(live))
            await asyncio.gather(*(r.done.wait() for r in live), return_exceptions=True)

    def _hook_shutdown(self) -> None:
        # Under daphne the Twisted reactor runs the loop: settle runs before it stops (daphne
        # only waits for its own application instances, not for tasks they started).
        if self._shutdown_hooked or "twisted.internet.reactor" not in sys.modules:
            return
        from twisted.internet import defer, reactor

        if not reactor.running:
            return
        self._shutdown_hooked = True
        reactor.addSystemEventTrigger(
            "before", "shutdown", lambda: defer.Deferred.fromFuture(asyncio.ensure_future(self.interrupt_all()))
        )


live_runs = LiveRuns()
