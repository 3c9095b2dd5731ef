"""Token coalescing: the pending deltas of every run of an event loop go out once per flush interval.

One timer per event loop serves all of its runs: a delta waits at most one interval, and a run
emits at most one `run.token` frame per tick however fast its provider streams.
"""

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable

from llm import conf

logger = logging.getLogger(__name__)

Flush = Callable[[], Awaitable[None]]


class _Ticker:
    def __init__(self) -> None:
        self.due: dict[Flush, None] = {}  # flushes of runs with pending tokens, in arrival order
        self.task: asyncio.Task | None = None

    def schedule(self, flush: Flush) -> None:
        self.due[flush] = None
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while self.due:
            # Ticks keep to the interval however long the sends take, so frame gaps do not
            # stretch with the number of runs.
            next_at = max(next_at + conf.token_flush_interval(), loop.time())
            await asyncio.sleep(next_at - loop.time())
            due, self.due = self.due, {}
            for flush in due:
                try:
                    await flush()
                except Exception:  # one run's failure must not stall the others' tokens
                    logger.exception("could not send a run's tokens")


_tickers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Ticker]" = weakref.WeakKeyDictionary()


def flush_on_next_tick(flush: Flush) -> None:
    """Call `flush` at this loop's next flush tick (once, however often it is scheduled before)."""
    loop = asyncio.get_running_loop()
    ticker = _tickers.get(loop)
    if ticker is None:
        ticker = _tickers[loop] = _Ticker()
    ticker.schedule(flush)
