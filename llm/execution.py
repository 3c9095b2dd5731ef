"""One run on the event loop: provider stream → coalesced `run.token` frames → settle.

A `RunExecution` drives one run in its own task. Frames go straight to the attached sinks (the
sockets' `send`), then to the Redis Stream for resume on other processes; the database is
written only when the run settles. A run whose sockets all closed keeps going for the resume
grace period, then is cancelled. Server shutdown settles every live run as failed/interrupted.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from llm import conf, streams
from llm.events import TERMINAL_TYPES, RunStarted, RunToken, run_failed_frame, terminal_frame
from llm.live_runs import STOP_ABANDONED, STOP_CANCEL, STOP_INTERRUPTED, live_runs
from llm.models import LLMRun, RunStatus
from llm.providers.base import GenerationRequest, ProviderError, Usage
from llm.registry import provider_for
from llm.services import RunOutcome
from llm.settling import UNSETTLED_CODE, UNSETTLED_MESSAGE, retry_delays, settle_with_retries
from llm.token_batches import flush_on_next_tick

logger = logging.getLogger(__name__)

# A sink gets each frame and its JSON text (serialised once for every socket and the stream).
Sink = Callable[[dict[str, Any], str], Awaitable[None]]
FRAMES_DEADLINE_MARGIN_SECONDS = 30.0
FINISH_WAIT_SECONDS = 5.0


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


class RunExecution:
    """One live run of this process."""

    def __init__(self, run: LLMRun, request: GenerationRequest, *, request_id: str | None = None):
        self.run_id = str(run.pk)
        self.user_id = run.user_id
        self.request_id = request_id
        self.model_id = run.model
        self.sealed = run.sealed  # its frames go only to the sinks its starter attached
        self._request = request
        self.frames: list[tuple[dict[str, Any], str]] = []  # everything emitted, for in-process resume
        self.sinks: list[Sink] = []
        self.stop_reason: str | None = None
        self.settled: LLMRun | None = None
        self.done = asyncio.Event()
        self._emit_lock = asyncio.Lock()
        self._pending: list[str] = []
        self._producing = True
        self._started = False
        self._seq = 0
        self._watchdog: asyncio.Task | None = None
        self.task: asyncio.Task | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, sink: Sink | None = None) -> asyncio.Task:
        if sink is not None:
            self.sinks.append(sink)
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"llm-run-{self.run_id}")
        live_runs.add(self)
        return self.task

    def stop(self, reason: str) -> None:
        """Stop the upstream request; the run settles as cancelled (or failed/interrupted)."""
        # Once the upstream is finished the run is settling: too late to stop it.
        if self.task is None or not self._producing or self.stop_reason is not None:
            return
        self.stop_reason = reason
        if self._started:  # a task cancelled before its first step would never settle
            self.task.cancel()

    async def wait(self) -> LLMRun | None:
        await self.done.wait()
        return self.settled

    # --- sinks -----------------------------------------------------------------------------

    async def attach(self, sink: Sink, *, after_seq: int) -> None:
        """Replay the frames after `after_seq` to the sink, then keep it attached to the live run."""
        async with self._emit_lock:
            if sink in self.sinks:
                self.sinks.remove(sink)
            for frame, text in list(self.frames):
                if frame["type"] != "run.token" or frame["seq"] > after_seq:
                    await self._deliver(sink, frame, text)
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
    async def _deliver(sink: Sink, frame: dict[str, Any], text: str) -> None:
        try:
            await sink(frame, text)
        except Exception:  # a closing socket must not break the run
            logger.debug("dropping frame for a closed sink", exc_info=True)

    async def _emit(self, frame: dict[str, Any]) -> None:
        """Send a frame to every sink, then to the run's Redis Stream."""
        text = _dumps(frame)
        async with self._emit_lock:
            self.frames.append((frame, text))
            for sink in list(self.sinks):
                await self._deliver(sink, frame, text)
            if streams.enabled():
                streams.append(self.run_id, text, final=frame["type"] in TERMINAL_TYPES)

    async def _flush_tokens(self) -> None:
        """Emit the pending deltas as one `run.token` frame."""
        if self._pending:
            delta, self._pending = "".join(self._pending), []
            seq, self._seq = self._seq, self._seq + 1
            await self._emit(RunToken(run_id=self.run_id, seq=seq, delta=delta).model_dump())

    async def _on_queued(self, position: int) -> None:
        """The local model is busy: tell the clients where this run waits (not kept for resume)."""
        frame = {"type": "run.queued", "run_id": self.run_id, "position": position}
        for sink in list(self.sinks):
            await self._deliver(sink, frame, _dumps(frame))

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
                    self._pending.append(item)
                    if ttft_ms is None:  # the first delta goes out at once, later ones coalesced
                        ttft_ms = int((time.monotonic() - started) * 1000)
                        await self._flush_tokens()
                    else:
                        flush_on_next_tick(self._flush_tokens)
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
        await self._finish(
            RunOutcome(
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
        )

    async def _finish(self, outcome: RunOutcome) -> None:
        """Send the last tokens, settle, send the terminal frame; the run settles whatever fails."""
        try:
            await self._flush_tokens()
        except Exception:
            logger.exception("could not send the last tokens of run %s", self.run_id)
        self.settled = await settle_with_retries(self.run_id, outcome)
        if self.settled is not None:
            frame = terminal_frame(self.settled)
        else:  # every client still gets an end: the run is recorded later, as this frame says
            frame = run_failed_frame(run_id=self.run_id, code=UNSETTLED_CODE, message=UNSETTLED_MESSAGE)
            frame["output"] = outcome.output
        if frame["type"] == "run.failed":
            frame["request_id"] = self.request_id
        await self._emit(frame)
        if streams.enabled():
            with contextlib.suppress(Exception):
                # Followers on other processes must see the end; a hung Redis must not hold the run.
                await asyncio.wait_for(streams.flush(), streams.FLUSH_TIMEOUT_SECONDS)
        self.sinks.clear()
        self.done.set()
        live_runs.finished(self)


async def run_frames(
    run: LLMRun,
    request: GenerationRequest,
    *,
    request_id: str | None = None,
    keepalive: float | None = None,
    cancel_on_close: bool = False,
) -> AsyncIterator[dict[str, Any] | None]:
    """Start `run` and yield its frames (run.started, tokens, the terminal frame), for HTTP clients.

    With `keepalive`, None is yielded after that many idle seconds (a queued local run is silent).
    If the client goes away the run is detached like a closed socket: it may still be resumed;
    with `cancel_on_close` (clients that cannot resume) it is cancelled upstream at once instead.
    """
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def sink(frame: dict[str, Any], text: str) -> None:
        queue.put_nowait(frame)

    execution = RunExecution(run, request, request_id=request_id)
    execution.start(sink)
    # The run bounds itself (LLM_RUN_MAX_SECONDS, then the settle's retries); this bounds the
    # client's wait even if the run's task were lost.
    deadline = time.monotonic() + conf.run_max_seconds() + sum(retry_delays()) + FRAMES_DEADLINE_MARGIN_SECONDS
    try:
        yield RunStarted(run_id=execution.run_id, request_id=request_id, model=run.model).model_dump()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                execution.stop(STOP_ABANDONED)
                yield run_failed_frame(run_id=execution.run_id, code="timeout", message="The run took too long.")
                return
            try:
                frame = await asyncio.wait_for(queue.get(), min(keepalive or left, left))
            except TimeoutError:
                if keepalive is not None:
                    yield None
                continue
            if frame["type"] in TERMINAL_TYPES:
                # The run finishes its own end first (the stream's last write): the request that
                # drives it may end, and its loop close, as soon as the client has this frame.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(execution.done.wait(), FINISH_WAIT_SECONDS)
                yield frame
                return
            yield frame
    finally:
        if cancel_on_close and not execution.done.is_set():
            execution.stop(STOP_CANCEL)
        execution.detach(sink)


__all__ = ["STOP_CANCEL", "RunExecution", "Sink", "run_frames"]
