"""The local Provider: a generation runs in a worker thread, handed to asyncio piece by piece.

Each model has its own pool (slots, FIFO queue, loaded instances). Closing the stream stops the
generation at its next token; the slot is freed once the worker thread is done with its Llama.
"""

import asyncio
import atexit
import importlib.util
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from llm.providers.base import GenerationRequest, ProviderError, QueuedCallback, Usage
from llm.providers.local.models import MODELS, LocalModel
from llm.providers.local.pool import ModelPool

logger = logging.getLogger(__name__)

POOLS: dict[str, ModelPool] = {name: ModelPool(model) for name, model in MODELS.items()}
for _pool in POOLS.values():
    atexit.register(_pool.close)

_DONE = object()


def _generate(
    model: LocalModel, llm: Any, request: GenerationRequest, emit: Callable[[object], None], stop: threading.Event
) -> None:
    """Worker thread: stream the text through `emit`, then Usage (or raise a ProviderError)."""
    generation = model.start(llm, request)
    try:
        output_tokens = 0
        for piece in generation.pieces:
            if stop.is_set():
                return
            output_tokens += 1
            emit(piece)
        emit(Usage(input_tokens=generation.input_tokens, output_tokens=output_tokens))
    finally:
        generation.pieces.close()


class LocalProvider:
    name = "local"

    def __init__(self, pools: dict[str, ModelPool] | None = None):
        self.pools = POOLS if pools is None else pools
        self._available: bool | None = None

    def available(self) -> bool:
        """The bindings import and every model's package is installed (checked without loading a model)."""
        if self._available is None:
            modules = ("llama_cpp", *(pool.model.package for pool in self.pools.values()))
            self._available = all(importlib.util.find_spec(module) is not None for module in modules)
        return self._available

    async def stream(
        self, request: GenerationRequest, *, on_queued: QueuedCallback | None = None
    ) -> AsyncIterator[str | Usage]:
        pool = self.pools.get(request.model)
        if pool is None:
            raise ProviderError("invalid_request", f"Unknown local model {request.model!r}.")
        if not self.available():
            raise ProviderError("provider_error", "The local models are not installed (llama-cpp-python).")
        await pool.acquire(on_queued)
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
                llm = pool.checkout()
                _generate(pool.model, llm, request, emit, stop)
            except ProviderError as error:
                emit(error)
            except Exception as exc:
                logger.exception("local generation failed")
                what = "failed" if llm is not None else "could not be loaded"
                emit(ProviderError("provider_error", f"The local model {what}: {exc}"))
            finally:
                emit(_DONE)
                if llm is not None:
                    pool.checkin(llm)
                pool.untrack(thread)
                # The slot is freed only when the thread is done with its Llama.
                pool.release()

        thread = threading.Thread(target=work, name=f"local-llm-{request.model}", daemon=True)
        pool.track(thread, stop)
        try:
            thread.start()
        except BaseException:
            pool.untrack(thread)
            pool.release()
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
                    # A completion usually opens with the space or newline after the prompt:
                    # the output starts at its first visible character.
                    item = item.lstrip()
                    if not item:
                        continue
                    first = False
                yield item
        finally:
            stop.set()
