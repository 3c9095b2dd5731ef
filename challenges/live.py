"""A graded attempt on the event loop: up to CHALLENGES_ATTEMPT_PARALLEL case runs at a time, each
graded as it ends.

An `AttemptExecution` starts each case run as a normal `llm.execution.RunExecution` with a sink
of its own. The sink watches the streamed text for a check it already fails (and then stops the
run upstream: it is charged only for what it used) and forwards the public cases' frames, tagged
with `attempt_id` and `case_id`, to the attempt's sinks (a socket, an SSE response). A hidden
case sends nothing but its `attempt.case` pass/fail. The attempt settles exactly once, whatever
happens; a cancel stops its live runs and starts no more.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

from challenges import attempts, conf
from challenges.events import (
    TERMINAL_TYPES,
    AttemptCancelled,
    AttemptCase,
    AttemptCompleted,
    AttemptFailed,
    AttemptStarted,
    CaseRef,
    CheckOut,
    ErrorBody,
)
from challenges.grading import grade
from challenges.models import Attempt, AttemptStatus
from llm.events import RunStarted
from llm.execution import RunExecution
from llm.live_runs import STOP_CANCEL, live_runs
from llm.models import LLMRun, RunStatus

logger = logging.getLogger(__name__)

Sink = Callable[[dict[str, Any], str], Awaitable[None]]
HIDDEN_FAILURE = "A hidden case's run failed."


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


class AttemptExecution:
    """One live attempt of this process."""

    def __init__(self, started: attempts.StartedAttempt, *, request_id: str | None = None):
        attempt = started.attempt
        self.attempt_id = str(attempt.pk)
        self.user_id = attempt.user_id
        self.request_id = request_id
        self.model_id = attempt.model
        self._started_frame = AttemptStarted(
            attempt_id=self.attempt_id,
            request_id=request_id,
            challenge=attempt.challenge.slug,
            model=attempt.model,
            samples=attempt.version.samples,
            cases=[CaseRef(id=case.id, hidden=case.hidden) for case in started.cases.values()],
        ).model_dump()
        self._jobs = started.jobs
        self._cases = started.cases
        self.sinks: list[Sink] = []
        self.runs: dict[str, RunExecution] = {}
        self.graded: list[attempts.GradedSample] = []
        self.cancelled = False
        self.failure: tuple[str, str] | None = None
        self.settled: Attempt | None = None
        self.done = asyncio.Event()
        self.task: asyncio.Task | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, sink: Sink | None = None) -> asyncio.Task:
        if sink is not None:
            self.sinks.append(sink)
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"challenge-attempt-{self.attempt_id}")
        live_attempts[self.attempt_id] = self
        live_runs.watch_cancel(self.attempt_id, self.cancel)  # an attempt.cancel heard on another process
        return self.task

    def cancel(self) -> None:
        """Stop the live case runs and start no more; the attempt settles as cancelled."""
        if not self.done.is_set():
            self.cancelled = True
            self._stop_runs()

    async def wait(self) -> Attempt | None:
        await self.done.wait()
        return self.settled

    @property
    def _stopping(self) -> bool:
        return self.cancelled or self.failure is not None

    def _stop_runs(self) -> None:
        for execution in list(self.runs.values()):
            execution.stop(STOP_CANCEL)

    def _fail(self, code: str, message: str) -> None:
        if self.failure is None:
            self.failure = (code, message)
        self._stop_runs()

    # --- frames ----------------------------------------------------------------------------

    async def emit(self, frame: dict[str, Any], text: str | None = None) -> None:
        text = _dumps(frame) if text is None else text
        for sink in list(self.sinks):
            try:
                await sink(frame, text)
            except Exception:  # a closing socket must not break the attempt
                logger.debug("dropping an attempt frame for a closed sink", exc_info=True)

    # --- the attempt -----------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self.emit(self._started_frame)
            jobs = deque(self._jobs)
            # The first runs start together (one transaction), then one more as each ends.
            first = [jobs.popleft() for _ in range(min(conf.attempt_parallel(), len(jobs)))]
            runs = await self._runs_start(first)
            await asyncio.gather(*(self._work(jobs, job, run) for job, run in zip(first, runs, strict=False)))
        except asyncio.CancelledError:
            self._fail("interrupted", "The server stopped the attempt.")
            raise
        finally:
            await asyncio.shield(self._settle())

    async def _work(self, jobs: deque[attempts.SampleJob], job: attempts.SampleJob, run: LLMRun) -> None:
        """Stream and grade the started run, then start and grade the next job, until none is left."""
        while True:
            try:
                await self._sample(job, run)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("attempt %s: case %s could not be graded", self.attempt_id, job.case_id)
                self._fail("provider_error", "A case could not be graded.")
            if not jobs or self._stopping:
                return
            job = jobs.popleft()
            started = await self._runs_start([job])
            if not started:
                return
            run = started[0]

    async def _runs_start(self, jobs: list[attempts.SampleJob]) -> list[LLMRun]:
        """The jobs' runs, in the attempt's batch (it holds the run slot); [] when the attempt stopped."""
        if self._stopping or not jobs:
            return []
        try:
            return await database_sync_to_async(attempts.attempt_runs_start)(
                attempt_id=self.attempt_id, user_id=self.user_id, jobs=jobs
            )
        except attempts.AttemptEnded:
            self._fail("interrupted", "The attempt was settled while it ran.")
            return []

    async def _sample(self, job: attempts.SampleJob, run: LLMRun) -> None:
        case = self._cases[job.case_id]
        tag = {"attempt_id": self.attempt_id, "case_id": job.case_id, "sample": job.sample}
        # A run frame's JSON text is a compact object: the tag goes in before its closing brace,
        # so the run's frames are not serialised twice.
        tag_text = "," + _dumps(tag)[1:]
        execution = RunExecution(run, job.plan.request, request_id=self.request_id)
        streamed: list[str] = []
        stopped: list[int] = []

        async def sink(frame: dict[str, Any], text: str) -> None:
            if frame["type"] == "run.token":
                streamed.append(frame["delta"])
                if not stopped and (index := case.failed_early("".join(streamed))) is not None:
                    stopped.append(index)
                    execution.stop(STOP_CANCEL)
            if not job.hidden:
                await self.emit({**frame, **tag}, text[:-1] + tag_text)

        self.runs[execution.run_id] = execution
        if not job.hidden:
            started = RunStarted(run_id=execution.run_id, request_id=self.request_id, model=run.model)
            await self.emit({**started.model_dump(), **tag})
        try:
            execution.start(sink)
            if self._stopping:  # a cancel came while the run was being started
                execution.stop(STOP_CANCEL)
            settled = await execution.wait()
        finally:
            self.runs.pop(execution.run_id, None)
        await self._grade(job, settled, stopped_early=bool(stopped))

    async def _grade(self, job: attempts.SampleJob, settled: LLMRun | None, *, stopped_early: bool) -> None:
        if settled is None:
            self._fail("provider_error", "A case run could not be recorded.")
            return
        if settled.status == RunStatus.FAILED:
            message = HIDDEN_FAILURE if job.hidden else settled.error_message
            self._fail(settled.error_code or "provider_error", message)
            return
        stopped_early = stopped_early and settled.status == RunStatus.CANCELLED
        if settled.status == RunStatus.CANCELLED and not stopped_early:
            self.cancel()  # the learner stopped it (the attempt, or this run)
            return
        case = self._cases[job.case_id]
        results = await grade(case, settled.output)
        passed = all(result.passed for result in results) and not stopped_early
        checks = [result.as_dict() for result in results]
        self.graded.append(
            attempts.GradedSample(job.case_id, job.sample, passed, settled.output, checks, stopped_early)
        )
        frame = AttemptCase(
            attempt_id=self.attempt_id,
            case_id=job.case_id,
            sample=job.sample,
            passed=passed,
            stopped_early=stopped_early,
            checks=None if job.hidden else [CheckOut(**check) for check in checks],
        )
        await self.emit(frame.model_dump(exclude_none=True))

    async def _settle(self) -> None:
        if self.failure is not None:
            status, (code, message) = AttemptStatus.FAILED, self.failure
        elif self.cancelled:
            status, code, message = AttemptStatus.CANCELLED, "", ""
        elif len(self.graded) == len(self._jobs):
            status, code, message = AttemptStatus.COMPLETED, "", ""
        else:
            status, code, message = AttemptStatus.FAILED, "interrupted", "The attempt stopped without finishing."
        try:
            self.settled = await database_sync_to_async(attempts.attempt_settle)(
                attempt_id=self.attempt_id, graded=self.graded, status=status, error_code=code, error_message=message
            )
        except Exception:
            logger.exception("could not settle attempt %s", self.attempt_id)
        try:
            await self.emit(self._terminal_frame())
        finally:
            self.sinks.clear()
            self.done.set()
            live_attempts.pop(self.attempt_id, None)
            live_runs.unwatch_cancel(self.attempt_id)

    def _terminal_frame(self) -> dict[str, Any]:
        attempt = self.settled
        if attempt is None:
            error = ErrorBody(code="server_error", message="The attempt could not be recorded.")
            return AttemptFailed(
                attempt_id=self.attempt_id, request_id=self.request_id, error=error, cost_credits=0
            ).model_dump()
        return attempt_terminal_frame(attempt, request_id=self.request_id)


def attempt_terminal_frame(attempt: Attempt, *, request_id: str | None = None) -> dict[str, Any]:
    """The `attempt.completed` / `attempt.cancelled` / `attempt.failed` frame of a settled attempt."""
    attempt_id = str(attempt.pk)
    if attempt.status == AttemptStatus.COMPLETED:
        return AttemptCompleted(
            attempt_id=attempt_id,
            passed=attempt.passed,
            pass_rate=attempt.pass_rate,
            score=attempt.score,
            score_breakdown=attempt.score_breakdown,
            prompt_tokens=attempt.prompt_tokens,
            cost_credits=attempt.cost_credits,
            xp_awarded=attempt.xp_awarded,
            best=attempt.best,
        ).model_dump()
    if attempt.status == AttemptStatus.CANCELLED:
        return AttemptCancelled(attempt_id=attempt_id, cost_credits=attempt.cost_credits).model_dump()
    error = ErrorBody(code=attempt.error_code or "provider_error", message=attempt.error_message)
    return AttemptFailed(
        attempt_id=attempt_id, request_id=request_id, error=error, cost_credits=attempt.cost_credits
    ).model_dump()


# The live attempts of this process, by id (for attempt.cancel from any of the user's sockets here).
live_attempts: dict[str, AttemptExecution] = {}


async def attempt_frames(
    started: attempts.StartedAttempt, *, request_id: str | None = None, keepalive: float | None = None
) -> AsyncIterator[dict[str, Any] | None]:
    """Run the attempt and yield its frames up to its terminal frame, for HTTP clients.

    With `keepalive`, None is yielded after that many idle seconds. A client that goes away
    cancels the attempt.
    """
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def sink(frame: dict[str, Any], text: str) -> None:
        queue.put_nowait(frame)

    execution = AttemptExecution(started, request_id=request_id)
    execution.start(sink)
    try:
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
        execution.cancel()
