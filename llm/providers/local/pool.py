"""One model's generation slots and its loaded `llama_cpp.Llama` instances, per process.

A `Llama` is not thread-safe, so each concurrent generation gets its own, loaded lazily: at most
`settings.LLM_LOCAL_CONCURRENCY` per model, the rest wait in FIFO order and are told their place.
"""

import asyncio
import inspect
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from llm.providers.base import QueuedCallback
from llm.providers.local.models import LocalModel


@contextmanager
def without_extra_buffers() -> Iterator[None]:
    """Load weights without llama.cpp's extra (repacked/AMX) buffer types (callers hold a load lock).

    A natively built llama.cpp's AMX matmul segfaults on CPUs that advertise AMX inside some VMs;
    `Llama` does not expose `use_extra_bufts`, so the default model params change while loading.
    """
    from llama_cpp import llama as llama_module

    original = llama_module.llama_cpp.llama_model_default_params

    def params() -> Any:
        value = original()
        value.use_extra_bufts = False
        return value

    llama_module.llama_cpp.llama_model_default_params = params
    try:
        yield
    finally:
        llama_module.llama_cpp.llama_model_default_params = original


# The default params are patched process-wide while a model loads: one load at a time, any model.
_load_lock = threading.Lock()


def load(model: LocalModel) -> Any:
    """A new `Llama` for `model`, with the options every embedded generation runs under."""
    from llama_cpp import Llama

    with _load_lock:
        path = model.locate()
        with without_extra_buffers():
            return Llama(
                model_path=str(path),
                n_ctx=settings.LLM_LOCAL_CONTEXT,
                n_threads=settings.LLM_LOCAL_THREADS or None,
                seed=0,
                verbose=False,
            )


class ModelPool:
    """Slots for concurrent generations of one model, each with its own lazily loaded Llama."""

    def __init__(self, model: LocalModel) -> None:
        self.model = model
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self.active = 0  # slots in use: a generation holds its slot until its worker thread has stopped
        self.loaded = 0  # Llama instances loaded (at most the concurrency limit, each loaded once)
        self._running: dict[threading.Thread, threading.Event] = {}
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, on_queued: QueuedCallback | None) -> None:
        """Wait for a free slot (FIFO); `on_queued(position)` first when there is none."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.active < max(1, settings.LLM_LOCAL_CONCURRENCY) and not self._waiters:
                self.active += 1
                return
            waiter = loop.create_future()
            self._waiters.append((loop, waiter))
            position = len(self._waiters)
        try:
            if on_queued is not None:
                result = on_queued(position)
                if inspect.isawaitable(result):
                    await result
            await waiter
        except BaseException:
            with self._lock:
                queued = (loop, waiter) in self._waiters
                if queued:
                    self._waiters.remove((loop, waiter))
            if not queued:
                if waiter.done() and not waiter.cancelled():
                    self.release()  # the slot was already ours
                else:
                    waiter.cancel()  # a hand-over is scheduled; it passes the slot on
            raise

    def release(self) -> None:
        """Free a slot (from any thread), handing it to the oldest waiter that is still waiting."""
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._hand_over, waiter)
                    return
                except RuntimeError:  # that waiter's loop is closed
                    continue
            self.active -= 1

    def _hand_over(self, waiter: asyncio.Future) -> None:
        if waiter.done():  # cancelled meanwhile: the slot goes to the next one
            self.release()
        else:
            waiter.set_result(None)

    def checkout(self) -> Any:
        """A Llama for the slot the caller holds (loads one on first need; call in a worker thread)."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        llm = load(self.model)
        with self._lock:
            self.loaded += 1
        return llm

    def checkin(self, llm: Any) -> None:
        with self._lock:
            self._idle.append(llm)

    def track(self, thread: threading.Thread, stop: threading.Event) -> None:
        with self._lock:
            self._running[thread] = stop

    def untrack(self, thread: threading.Thread) -> None:
        with self._lock:
            self._running.pop(thread, None)

    def close(self, timeout: float = 2.0) -> None:
        """At exit: stop running generations, then free the models (llama.cpp's own finaliser
        fails during interpreter shutdown, and a generation cut off mid-token can crash it)."""
        with self._lock:
            running = list(self._running.items())
        for _, stop in running:
            stop.set()
        for thread, _ in running:
            thread.join(timeout)
        with self._lock:
            idle, self._idle = self._idle, []
        for llm in idle:
            llm.close()
