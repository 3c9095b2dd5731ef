"""`/ws/playground/` with graded attempts: `attempt.*` here, `run.*` in llm's playground consumer.

An attempt runs in its own task (a `challenges.live.AttemptExecution`) so the socket keeps
receiving while it grades; closing the socket cancels the attempts it started.
"""

import uuid
from typing import Any

from channels.db import database_sync_to_async

from challenges import attempts
from challenges.events import AttemptCancel, AttemptStart, attempt_error_frame, parse_attempt_message
from challenges.live import AttemptExecution, live_attempts
from llm.consumers import PlaygroundConsumer as RunsPlaygroundConsumer
from llm.events import InvalidMessage


class PlaygroundConsumer(RunsPlaygroundConsumer):
    async def on_authenticated(self) -> None:
        await super().on_authenticated()
        self.attempts: dict[str, AttemptExecution] = {}

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
        if execution is None or execution.user_id != self.user.pk or execution.done.is_set():
            await self.send_error(
                "unknown_attempt", "No such attempt of yours is running.", attempt_id=message.attempt_id
            )
            return
        if self.send_frame not in execution.sinks:  # started from another socket: tell this one the end too
            execution.sinks.append(self.send_frame)
        execution.cancel()  # its task sends attempt.cancelled once its runs have stopped and it settled


def _parse_id(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _request_id(content: dict[str, Any]) -> str | None:
    request_id = content.get("request_id")
    return request_id if isinstance(request_id, str) and len(request_id) <= 100 else None
