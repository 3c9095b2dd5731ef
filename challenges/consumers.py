"""`/ws/playground/` with graded attempts: `attempt.*` here, `run.*` in llm's playground consumer.

An attempt runs in its own task (a `challenges.live.AttemptExecution`) so the socket keeps
receiving while it grades; closing the socket cancels the attempts it started. `attempt.cancel`
works from any of the user's sockets: on the process running the attempt directly, on another
one through Redis (the process that runs it hears the cancel), this socket then waiting for the
attempt to settle to send its `attempt.cancelled`.
"""

import asyncio
import contextlib
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async

from challenges import attempts, selectors
from challenges.events import (
    TERMINAL_TYPES,
    AttemptCancel,
    AttemptStart,
    attempt_error_frame,
    parse_attempt_message,
)
from challenges.live import AttemptExecution, Sink, attempt_terminal_frame, live_attempts
from llm import streams
from llm.consumers import PlaygroundConsumer as RunsPlaygroundConsumer
from llm.events import InvalidMessage

# How long a cancel asked of another process waits for the attempt to settle, polling its row.
CANCEL_ELSEWHERE_WAIT_SECONDS = 10.0
CANCEL_ELSEWHERE_POLL_SECONDS = 0.1


class PlaygroundConsumer(RunsPlaygroundConsumer):
    async def on_authenticated(self) -> None:
        await super().on_authenticated()
        self.attempts: dict[str, AttemptExecution] = {}
        self.cancelling: set[str] = set()  # other sockets' attempts this one asked to cancel

    async def handle(self, content: dict[str, Any]) -> None:
        if not content["type"].startswith("attempt."):
            await super().handle(content)
            return
        try:
            message = parse_attempt_message(content)
        except InvalidMessage as exc:
            await self.send_error(exc.code, exc.message, request_id=_request_id(content))
            return
        if isinstance(message, AttemptStart):
            await self.attempt_start(message)
        elif isinstance(message, AttemptCancel):
            await self.attempt_cancel(message)

    async def on_disconnected(self, code: int) -> None:
        for execution in self.attempts.values():
            execution.cancel()
        self.attempts.clear()
        await super().on_disconnected(code)

    async def attempt_start(self, message: AttemptStart) -> None:
        try:
            started = await database_sync_to_async(attempts.attempt_create)(
                user=self.user,
                challenge=message.challenge,
                prompt=message.prompt,
                model=message.model,
                system=message.system or "",
                params=message.params.model_dump(exclude_none=True) if message.params else None,
            )
        except attempts.AttemptRefused as exc:
            frame = attempt_error_frame(
                code=exc.code, message=exc.message, request_id=message.request_id, field=exc.field
            )
            if exc.retry_after is not None:
                frame["retry_after"] = exc.retry_after
            await self.send_json(frame)
            return
        attempt = started.attempt
        if attempt.status != "running":  # refused for credits: a failed attempt, nothing charged
            await self.send_json(
                attempt_error_frame(
                    code=attempt.error_code,
                    message=attempt.error_message,
                    request_id=message.request_id,
                    attempt_id=str(attempt.pk),
                )
            )
            return
        execution = AttemptExecution(started, request_id=message.request_id)
        attempt_id = execution.attempt_id
        self.attempts[attempt_id] = execution
        execution.start(self.send_frame).add_done_callback(lambda _: self.attempts.pop(attempt_id, None))

    async def attempt_cancel(self, message: AttemptCancel) -> None:
        attempt_id = _parse_id(message.attempt_id)
        execution = live_attempts.get(attempt_id) if attempt_id else None
        if execution is not None and execution.user_id == self.user.pk and not execution.done.is_set():
            if self.send_frame not in execution.sinks and attempt_id not in self.cancelling:
                # Started from another socket: this one hears its end (not the rest of its frames).
                self.cancelling.add(attempt_id)
                execution.sinks.append(self._end_sink(attempt_id))
            execution.cancel()  # its task sends attempt.cancelled once its runs have stopped and it settled
            return
        running_elsewhere = (
            execution is None
            and attempt_id is not None
            and streams.enabled()
            and await database_sync_to_async(selectors.attempt_is_running_for)(attempt_id=attempt_id, user=self.user)
        )
        if running_elsewhere:
            await streams.announce_cancel(attempt_id)
            self._await_attempt_end(attempt_id)
            return
        await self.send_error("unknown_attempt", "No such attempt of yours is running.", attempt_id=message.attempt_id)

    def _end_sink(self, attempt_id: str) -> Sink:
        async def sink(frame: dict[str, Any], text: str) -> None:
            if frame["type"] in TERMINAL_TYPES:
                self.cancelling.discard(attempt_id)
                await self.send_frame(frame, text)

        return sink

    def _await_attempt_end(self, attempt_id: str) -> None:
        """Send the attempt's terminal frame once the process running it has settled it."""
        key = f"attempt:{attempt_id}"
        if key not in self.followers:  # closing the socket cancels its followers
            task = asyncio.get_running_loop().create_task(self._attempt_end(attempt_id))
            self.followers[key] = task
            task.add_done_callback(lambda _: self.followers.pop(key, None))

    async def _attempt_end(self, attempt_id: str) -> None:
        deadline = time.monotonic() + CANCEL_ELSEWHERE_WAIT_SECONDS
        with contextlib.suppress(asyncio.CancelledError):
            while time.monotonic() < deadline:
                ended = await database_sync_to_async(selectors.attempt_ended_for)(attempt_id=attempt_id, user=self.user)
                if ended is not None:
                    await self.send_json(attempt_terminal_frame(ended))
                    return
                await asyncio.sleep(CANCEL_ELSEWHERE_POLL_SECONDS)
            message = "The attempt's server has not confirmed the cancel; it may still finish."
            await self.send_error("timeout", message, attempt_id=attempt_id)


def _parse_id(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _request_id(content: dict[str, Any]) -> str | None:
    request_id = content.get("request_id")
    return request_id if isinstance(request_id, str) and len(request_id) <= 100 else None
