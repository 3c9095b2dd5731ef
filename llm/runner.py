"""The asyncio side of a run: provider stream → coalesced `run.token` frames → settle.

A `RunExecution` drives one run in its own task. Frames go straight to the attached sinks (the
sockets' `send`), then to the Redis Stream for resume on other processes; the database is
written only when the run settles. A run whose sockets all closed keeps going for the resume
grace period, then is cancelled. Server shutdown settles every live run as failed/interrupted.
"""

import asyncio
import contextlib
import json
import logging
import sys
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from llm import conf, streams
from llm.dbcall import db_call
from llm.events import (
    TERMINAL_TYPES,
    RunCancelled,
    RunCompleted,
    RunStarted,
    UsageOut,
    run_failed_frame,
    token_frame,
    token_frame_prefix,
    token_frame_text,
)
from llm.models import LLMRun, RunStatus
from llm.providers.base import GenerationRequest, ProviderError, Usage
from llm.registry import provider_for
from llm.services import RunOutcome, run_settle

logger = logging.getLogger(__name__)

# A sink gets each frame and its JSON text (serialised once for every socket and the stream).
Sink = Callable[[dict[str, Any], str], Awaitable[None]]

# json.dumps builds a new encoder on every call that passes separators: build it once.
_dumps = json.JSONEncoder(separators=(",", ":")).encode

STOP_CANCEL = "cancel"  # the client asked
STOP_ABANDONED = "abandoned"  # its sockets closed and nobody resumed it in time
STOP_INTERRUPTED = "interrupted"  # the server is shutting down
FINISHED_RETENTION_SECONDS = 120


def terminal_frame(run: LLMRun) -> dict[str, Any]:
    """The `run.completed` / `run.cancelled` / `run.failed` frame of a settled run."""
    run_id = str(run.pk)
    usage = UsageOut(input_tokens=run.input_tokens, output_tokens=run.output_tokens)
    if run.status == RunStatus.COMPLETED:
        return RunCompleted(
            run_id=run_id,
            output=run.output,
            usage=usage,
            cost_credits=run.cost_credits,
            ttft_ms=run.ttft_ms,
            latency_ms=run.latency_ms,
        ).model_dump()
    if run.status == RunStatus.CANCELLED:
        return RunCancelled(run_id=run_id, output=run.output, usage=usage, cost_credits=run.cost_credits).model_dump()
    frame = run_failed_frame(run_id=run_id, code=run.error_code or "provider_error", message=run.error_message)
    frame["output"] = run.output
    return frame


class RunExecution:
    """One live run of this process."""

    def __init__(self, run: LLMRun, *, request_id: str | None = None):
        self.run_id = str(run.pk)
        self._run_row = run  # as it started: lets the settle skip reading it back
        self.user_id = run.user_id
        self.request_id = request_id
        self.model_id = run.model
        self._request = GenerationRequest(
            model=run.model.partition(":")[2],  # the provider's own model name
            prompt=run.prompt,
            system=run.system or None,
            temperature=run.params["temperature"],
            max_tokens=run.params["max_tokens"],
        )
        # Everything emitted, for in-process resume, as (type, seq, JSON text): a run keeps its
        # frames for minutes, and dicts by the hundred thousand made every full garbage
        # collection of the process pause all its sockets (strings are not tracked).
        self.frames: list[tuple[str, int, str]] = []
        self.sinks: list[Sink] = []
        self.stop_reason: str | None = None
        self.settled: LLMRun | None = None
        self.done = asyncio.Event()
        self._emit_lock = asyncio.Lock()
        self._pending: list[str] = []
        self._flush_due = False  # queued on the loop's _FlushTicker
        self._first_flush: asyncio.Task | None = None
        self._producing = True
        self._started = False
        self._seq = 0
        self._token_prefix = token_frame_prefix(self.run_id)
        self._stream_frames = streams.enabled()  # read once: a Django setting costs a lazy lookup per frame
        self._watchdog: asyncio.Task | None = None
        self.task: asyncio.Task | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, sink: Sink | None = None) -> asyncio.Task:
        if sink is not None:
            self.sinks.append(sink)
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"llm-run-{self.run_id}")
        registry.add(self)
        return self.task

    def stop(self, reason: str) -> None:
        """Stop the upstream request; the run settles as cancelled (or failed/interrupted)."""
        # Once the upstream is finished the run is settling: too late to stop it.
        if self.task is None or not self._producing or self.stop_reason is not None:
            return
        self.stop_reason = reason
        if self._started:  # a task cancelled before its first step would never settle
            self.task.cancel()

    async def wait(self) -> LLMRun:
        await self.done.wait()
        return self.settled

    # --- sinks -----------------------------------------------------------------------------

    async def attach(self, sink: Sink, *, after_seq: int) -> None:
        """Replay the frames after `after_seq` to the sink, then keep it attached to the live run."""
        async with self._emit_lock:
            if sink in self.sinks:
                self.sinks.remove(sink)
            for kind, seq, text in list(self.frames):
                if kind != "run.token" or seq > after_seq:
                    await self._deliver(sink, json.loads(text), text)
            if not self.done.is_set():
                self.sinks.append(sink)

    def detach(self, sink: Sink) -> None:
        if sink in self.sinks:
            self.sinks.remove(sink)
        if not self.sinks and not self.done.is_set() and self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_detached())

    async def _watch_detached(self) -> None:
        """While no socket here follows the run: cancel it on request, or after the grace period."""
        deadline = time.monotonic() + conf.resume_grace_seconds()
        try:
            while not self.done.is_set() and not self.sinks:
                if streams.enabled():
                    if await streams.cancel_requested(self.run_id):
                        self.stop(STOP_CANCEL)
                        return
                    if await streams.is_attached(self.run_id):
                        deadline = time.monotonic() + conf.resume_grace_seconds()
                if time.monotonic() >= deadline:
                    self.stop(STOP_ABANDONED)
                    return
                await asyncio.sleep(0.25 if streams.enabled() else min(0.25, conf.resume_grace_seconds()))
        except Exception:
            logger.exception("detached-run watchdog failed for run %s", self.run_id)
            self.stop(STOP_ABANDONED)
        finally:
            self._watchdog = None

    # --- frames ----------------------------------------------------------------------------

    @staticmethod
    async def _deliver(sink: Sink, frame: dict[str, Any], text: str | None = None) -> None:
        try:
            await sink(frame, text or _dumps(frame))
        except Exception:  # a closing socket must not break the run
            logger.debug("dropping frame for a closed sink", exc_info=True)

    async def _emit(self, frame: dict[str, Any], text: str | None = None) -> None:
        """Send a frame (and its JSON text, when the caller has it) to every sink, then to Redis."""
        if text is None:
            text = _dumps(frame)
        async with self._emit_lock:
            kind = frame["type"]
            self.frames.append((kind, frame["seq"] if kind == "run.token" else -1, text))
            # _deliver inlined: this runs once per token frame and socket.
            for sink in list(self.sinks):
                try:
                    await sink(frame, text)
                except Exception:  # a closing socket must not break the run
                    logger.debug("dropping frame for a closed sink", exc_info=True)
            if self._stream_frames:
                streams.append(self.run_id, text, final=frame["type"] in TERMINAL_TYPES)

    async def _flush_tokens(self) -> None:
        """Emit the pending deltas as one `run.token` frame."""
        self._flush_due = False
        if self._pending:
            delta, self._pending = "".join(self._pending), []
            seq, self._seq = self._seq, self._seq + 1
            text = token_frame_text(self._token_prefix, seq, delta)
            await self._emit(token_frame(self.run_id, seq, delta), text)

    def _token_arrived(self, item: str, first: bool) -> None:
        """The first delta goes out at once, later ones with the loop's next flush tick."""
        self._pending.append(item)
        if first:
            # Its own task, as the frame must not be lost half-sent if this run is cancelled.
            self._first_flush = asyncio.get_running_loop().create_task(self._flush_tokens())
        elif not self._flush_due:
            # Its task was created earlier than any tick can fire: the first frame still goes first.
            self._flush_due = True
            _flush_ticker().schedule(self)

    async def _first_frame_out(self) -> None:
        """Read on only once the first token's frame is on the wire.

        Daphne's transport (Twisted) writes a frame when the loop next polls for I/O. Tokens that
        arrived together (one network read) are all parsed without the loop polling in between,
        so the first frame would otherwise wait for the rest of the burst: 2.3 ms for a
        20-token answer here.
        """
        await asyncio.wait({self._first_flush})  # the frame is handed to the socket (not cancelled with us)
        await _after_io_poll()

    async def _on_queued(self, position: int) -> None:
        """The local model is busy: tell the clients where this run waits (not kept for resume)."""
        frame = {"type": "run.queued", "run_id": self.run_id, "position": position}
        for sink in list(self.sinks):
            await self._deliver(sink, frame)

    # --- the run ---------------------------------------------------------------------------

    async def _run(self) -> None:
        self._started = True
        started = time.monotonic()
        parts: list[str] = []
        usage: Usage | None = None
        ttft_ms: int | None = None
        status, error_code, error_message = RunStatus.COMPLETED, "", ""
        upstream = None
        try:
            if self.stop_reason is not None:
                raise asyncio.CancelledError  # stopped before it began
            upstream = provider_for(self.model_id).stream(self._request, on_queued=self._on_queued)
            async with asyncio.timeout(conf.run_max_seconds()):
                async for item in upstream:
                    if isinstance(item, Usage):
                        usage = item
                        continue
                    if not item:
                        continue
                    parts.append(item)
                    self._token_arrived(item, first=ttft_ms is None)
                    if ttft_ms is None:
                        ttft_ms = int((time.monotonic() - started) * 1000)
                        await self._first_frame_out()
        except asyncio.CancelledError:
            # Cancelled by nobody we know (the loop is closing): settle it as interrupted too.
            if self.stop_reason in (None, STOP_INTERRUPTED):
                status, error_code, error_message = RunStatus.FAILED, "interrupted", "The server restarted."
            else:
                status = RunStatus.CANCELLED
        except TimeoutError:
            status, error_code, error_message = RunStatus.FAILED, "timeout", "The run took too long."
        except ProviderError as exc:
            status, error_code, error_message = RunStatus.FAILED, exc.code, exc.message
        except Exception as exc:
            logger.exception("run %s failed", self.run_id)
            status, error_code, error_message = RunStatus.FAILED, "provider_error", str(exc)[:200] or "Provider error."
        finally:
            # Closing the generator closes the HTTP response / stops local generation now,
            # not whenever it would be garbage-collected.
            if upstream is not None:
                with contextlib.suppress(Exception):
                    await upstream.aclose()
            self._producing = False
        # The last coalesced tokens before the terminal frame (the first frame goes out first).
        # Whatever happens to them, the run must still settle.
        try:
            if self._first_flush is not None:
                await self._first_flush
            await self._flush_tokens()
        except Exception:
            logger.exception("could not send the last tokens of run %s", self.run_id)
        outcome = RunOutcome(
            status=status,
            output="".join(parts),
            produced_tokens=len(parts),
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            ttft_ms=ttft_ms,
            latency_ms=int((time.monotonic() - started) * 1000),
            error_code=error_code,
            error_message=error_message,
        )
        try:
            self.settled = await db_call(run_settle)(run_id=self.run_id, outcome=outcome, run=self._run_row)
        except Exception:
            logger.exception("could not settle run %s", self.run_id)
            self.settled = None
        if self.settled is not None:
            frame = terminal_frame(self.settled)
            if frame["type"] == "run.failed":
                frame["request_id"] = self.request_id
            await self._emit(frame)
        if streams.enabled():
            with contextlib.suppress(Exception):
                await streams.flush()  # followers on other processes must see the end
        self.sinks.clear()
        self.done.set()
        registry.finished(self)


async def _after_io_poll() -> None:
    """Resume after the event loop's next poll for I/O and the callbacks it made ready.

    A timer due now runs after the next poll's I/O callbacks: asyncio makes due timers ready
    after the poll's events, and uvloop (libuv) runs them at the start of the iteration after
    the poll. Either way, writes queued before this call have been flushed by then.
    """
    loop = asyncio.get_running_loop()
    due = loop.create_future()
    loop.call_at(loop.time(), _resolve, due)
    await due


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class _FlushTicker:
    """Emits the pending tokens of every run of an event loop, once per flush interval.

    One timer and one task wake-up per interval for the whole process, where a sender task per
    run, sleeping between its frames, cost a timer and a wake-up per run and frame: 200 runs fed
    50 tokens/s (no-op sockets) took 33 µs of CPU per frame that way, 13 µs with the ticker. A
    delta waits at most one interval, as before; a run emits at most one frame per tick.
    """

    def __init__(self) -> None:
        self.due: dict[RunExecution, None] = {}  # runs with pending tokens, in arrival order
        self.task: asyncio.Task | None = None

    def schedule(self, execution: RunExecution) -> None:
        self.due[execution] = None
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while self.due:
            # Ticks keep to the interval however long the sends took (a sleep of a full interval
            # after them stretched every run's frame gap by the time to send all runs' frames).
            next_at = max(next_at + conf.token_flush_interval(), loop.time())
            await asyncio.sleep(next_at - loop.time())
            due, self.due = self.due, {}
            for execution in due:
                try:
                    await execution._flush_tokens()
                except Exception:  # one run's failure must not stall the others' tokens
                    logger.exception("could not send the tokens of run %s", execution.run_id)


_tickers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _FlushTicker]" = weakref.WeakKeyDictionary()


def _flush_ticker() -> _FlushTicker:
    loop = asyncio.get_running_loop()
    ticker = _tickers.get(loop)
    if ticker is None:
        ticker = _tickers[loop] = _FlushTicker()
    return ticker


class RunRegistry:
    """Live (and recently finished) runs of this process, for resume and shutdown."""

    def __init__(self) -> None:
        self.runs: dict[str, RunExecution] = {}
        self._shutdown_hooked = False
        self._cancel_listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = (
            weakref.WeakKeyDictionary()
        )
        self._heartbeats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = (
            weakref.WeakKeyDictionary()
        )

    def add(self, execution: RunExecution) -> None:
        self.runs[execution.run_id] = execution
        self._hook_shutdown()
        if streams.enabled():
            self._listen_for_cancels()
            self._beat()

    def _live_here(self) -> list[str]:
        loop = asyncio.get_running_loop()
        return [
            run_id
            for run_id, ex in self.runs.items()
            if ex.task is not None and not ex.done.is_set() and ex.task.get_loop() is loop
        ]

    async def _heartbeat(self) -> None:
        """Mark this loop's live runs as alive, so followers elsewhere can tell if this process died."""
        while live := self._live_here():
            try:
                await streams.mark_alive(live)
            except Exception:
                logger.warning("could not mark %d runs alive", len(live), exc_info=True)
            await asyncio.sleep(streams.ALIVE_EVERY_SECONDS)

    def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        beat = self._heartbeats.get(loop)
        if beat is None or beat.done():
            self._heartbeats[loop] = loop.create_task(self._heartbeat())

    def _cancel_requested(self, run_id: str) -> None:
        execution = self.runs.get(run_id)
        if execution is not None:
            execution.stop(STOP_CANCEL)

    def _listen_for_cancels(self) -> None:
        """One subscriber per process (event loop) for cancels asked on other processes."""
        loop = asyncio.get_running_loop()
        listener = self._cancel_listeners.get(loop)
        if listener is None or listener.done():
            self._cancel_listeners[loop] = loop.create_task(streams.listen_for_cancels(self._cancel_requested))

    def get(self, run_id: str) -> RunExecution | None:
        return self.runs.get(run_id)

    def finished(self, execution: RunExecution) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(FINISHED_RETENTION_SECONDS, self.runs.pop, execution.run_id, None)

    async def interrupt_all(self) -> None:
        """Stop every live run of this loop as interrupted and wait until each has settled."""
        loop = asyncio.get_running_loop()
        live = [ex for ex in self.runs.values() if ex.task is not None and not ex.done.is_set()]
        live = [ex for ex in live if ex.task.get_loop() is loop]
        for execution in live:
            execution.stop(STOP_INTERRUPTED)
        if live:
            logger.info("settling %d live runs before shutdown", len(live))
            await asyncio.gather(*(ex.done.wait() for ex in live), return_exceptions=True)

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


registry = RunRegistry()


async def run_frames(
    run: LLMRun, *, request_id: str | None = None, keepalive: float | None = None
) -> AsyncIterator[dict[str, Any] | None]:
    """Start `run` and yield its frames (run.started, tokens, the terminal frame), for HTTP clients.

    With `keepalive`, None is yielded after that many idle seconds (a queued local run is silent).
    If the client goes away the run is detached like a closed socket: it may still be resumed.
    """
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def sink(frame: dict[str, Any], text: str) -> None:
        queue.put_nowait(frame)

    execution = RunExecution(run, request_id=request_id)
    execution.start(sink)
    try:
        yield RunStarted(run_id=execution.run_id, request_id=request_id, model=run.model).model_dump()
        while True:
            try:
                frame = await asyncio.wait_for(queue.get(), keepalive)
            except TimeoutError:
                yield None
                continue
            yield frame
            if frame["type"] in TERMINAL_TYPES:
                return
    finally:
        execution.detach(sink)
