"""`/ws/playground/`: start, cancel and resume LLM runs; tokens stream straight onto this socket.

Each run is an asyncio task (a `RunExecution`) so this consumer keeps receiving while runs
stream. Closing the socket detaches its runs, which keep going for the resume grace period.
"""

import asyncio
import contextlib
import uuid
from typing import Any

from channels.db import database_sync_to_async

from accounts.ws.auth import AuthenticatedJsonConsumer
from llm import selectors, services, streams
from llm.events import (
    InvalidMessage,
    RunCancel,
    RunResume,
    RunStart,
    RunStarted,
    parse_client_message,
    run_failed_frame,
    terminal_frame,
)
from llm.execution import STOP_CANCEL, RunExecution
from llm.live_runs import live_runs
from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS

# Idle seconds (one check each) without the owner's heartbeat before a run counts as orphaned.
ORPHANED_AFTER_IDLE_SECONDS = 5

# An after_seq past any token: only the run's terminal frame is relayed.
ONLY_TERMINAL = 2**62

# A run.start with a prompt and a system prompt at their limits, even if JSON escapes every character
# to two (newlines, quotes), plus the rest of the message.
MAX_MESSAGE_CHARS = 2 * (PROMPT_MAX_CHARS + SYSTEM_MAX_CHARS) + 4 * 1024


def _parse_run_id(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


class PlaygroundConsumer(AuthenticatedJsonConsumer):
    max_message_chars = MAX_MESSAGE_CHARS

    async def on_authenticated(self) -> None:
        self.executions: dict[str, RunExecution] = {}
        self.followers: dict[str, asyncio.Task] = {}

    async def send_frame(self, frame: dict[str, Any], text: str) -> None:
        """A run's frame, already serialised (the runner's sink for this socket)."""
        await self.send(text_data=text)

    async def handle(self, content: dict[str, Any]) -> None:
        try:
            message = parse_client_message(content)
        except InvalidMessage as exc:
            await self.send_error(exc.code, exc.message)
            return
        if isinstance(message, RunStart):
            await self.run_start(message)
        elif isinstance(message, RunCancel):
            await self.run_cancel(message)
        elif isinstance(message, RunResume):
            await self.run_resume(message)

    async def on_revoked(self) -> None:
        # Signed out: the runs this socket started are cancelled, not kept for a resume.
        for execution in self.executions.values():
            execution.stop(STOP_CANCEL)

    async def on_disconnected(self, code: int) -> None:
        for execution in self.executions.values():
            execution.detach(self.send_frame)
        self.executions.clear()
        for follower in list(self.followers.values()):
            follower.cancel()

    async def run_start(self, message: RunStart) -> None:
        params = message.params.model_dump(exclude_none=True) if message.params else None
        try:
            started = await database_sync_to_async(services.run_create)(
                user=self.user,
                model=message.model,
                prompt=message.prompt,
                template_id=message.template_id,
                variables=message.variables,
                params=params,
            )
        except services.RunRefused as exc:
            await self.send_json(
                run_failed_frame(
                    run_id=None,
                    request_id=message.request_id,
                    code=exc.code,
                    message=exc.message,
                    retry_after=exc.retry_after,
                )
            )
            return
        run = started.run
        if run.status != "running":  # refused for credits: a failed run, nothing charged
            frame = terminal_frame(run)
            frame["request_id"] = message.request_id
            await self.send_json(frame)
            return
        run_id = str(run.pk)
        await self.send_json(RunStarted(run_id=run_id, request_id=message.request_id, model=run.model).model_dump())
        execution = RunExecution(run, started.request, request_id=message.request_id)
        self.executions[run_id] = execution
        execution.start(self.send_frame)

    async def run_cancel(self, message: RunCancel) -> None:
        run_id = _parse_run_id(message.run_id)
        execution = live_runs.get(run_id) if run_id else None
        if execution is not None and (execution.user_id != self.user.pk or execution.sealed):
            execution = None
        if execution is not None and not execution.done.is_set():
            execution.stop(STOP_CANCEL)
            if self.send_frame not in execution.sinks:  # started from another socket: tell this one too
                await execution.attach(self.send_frame, after_seq=ONLY_TERMINAL)
            return  # the run's task sends run.cancelled once upstream is closed and settled
        running_elsewhere = run_id and await database_sync_to_async(selectors.run_is_running_for)(
            run_id=run_id, user=self.user
        )
        if running_elsewhere and streams.enabled():
            await streams.request_cancel(run_id)  # the owning process stops it and writes run.cancelled
            self._follow(run_id, ONLY_TERMINAL)
            return
        await self.send_error("unknown_run", "No such run of yours is running.", run_id=message.run_id)

    async def run_resume(self, message: RunResume) -> None:
        run_id = _parse_run_id(message.run_id)
        run = await database_sync_to_async(selectors.run_get_for)(run_id=run_id, user=self.user) if run_id else None
        if run is None:
            await self.send_error("unknown_run", "No such run of yours.", run_id=message.run_id)
            return
        execution = live_runs.get(run_id)
        if execution is not None:
            if not execution.done.is_set():
                self.executions[run_id] = execution
            await execution.attach(self.send_frame, after_seq=message.after_seq)
            return
        # Another process runs it, or ran it: its stream has the frames; else the row has the end.
        if streams.enabled() and (run.status == "running" or await streams.exists(run_id)):
            self._follow(run_id, message.after_seq)
            return
        await self.send_json(terminal_frame(run))

    def _follow(self, run_id: str, after_seq: int) -> None:
        """Relay a run streaming on another process from its Redis Stream (once per run and socket)."""
        if run_id not in self.followers:
            task = asyncio.get_running_loop().create_task(self._relay(run_id, after_seq))
            self.followers[run_id] = task
            task.add_done_callback(lambda _: self.followers.pop(run_id, None))

    async def _relay(self, run_id: str, after_seq: int) -> None:
        missed_beats = 0

        async def finished(output: str) -> dict[str, Any] | None:
            nonlocal missed_beats
            run = await database_sync_to_async(services.run_ended)(run_id=run_id)
            if run is None:
                missed_beats = 0 if await streams.is_alive(run_id) else missed_beats + 1
                if missed_beats >= ORPHANED_AFTER_IDLE_SECONDS:  # its process died mid-run
                    run = await database_sync_to_async(services.run_orphaned)(run_id=run_id, output=output)
            return terminal_frame(run) if run is not None else None

        with contextlib.suppress(asyncio.CancelledError):
            async for frame in streams.follow(run_id, after_seq, finished=finished):
                await self.send_json(frame)
