"""`/ws/playground/` message schemas (both directions) and the Redis key names of run streams.

Client commands are parsed as one discriminated union, so any bad message becomes one clear
`error` reply. Server frames are built here too.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from llm.models import LLMRun, RunStatus

TERMINAL_TYPES = frozenset({"run.completed", "run.cancelled", "run.failed"})


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client → server ---------------------------------------------------------------------------


class RunParams(_Message):
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    system: str | None = Field(default=None, max_length=8_000)


class RunStart(_Message):
    type: Literal["run.start"]
    request_id: str | None = Field(default=None, max_length=100)
    model: str = Field(min_length=1, max_length=100)
    prompt: str | None = None
    template_id: str | None = Field(default=None, max_length=64)
    variables: dict[str, Any] | None = None
    params: RunParams | None = None

    @model_validator(mode="after")
    def _prompt_or_template(self) -> "RunStart":
        if (self.prompt is None) == (self.template_id is None):
            raise ValueError("Give either prompt or template_id (with variables), not both.")
        if self.variables is not None and self.template_id is None:
            raise ValueError("Variables go with template_id.")
        return self


class RunCancel(_Message):
    type: Literal["run.cancel"]
    run_id: str = Field(max_length=64)


class RunResume(_Message):
    type: Literal["run.resume"]
    run_id: str = Field(max_length=64)
    after_seq: int = Field(default=-1, ge=-1)


ClientMessage = Annotated[RunStart | RunCancel | RunResume, Field(discriminator="type")]
_client_adapter: TypeAdapter[RunStart | RunCancel | RunResume] = TypeAdapter(ClientMessage)


class InvalidMessage(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_client_message(content: dict[str, Any]) -> RunStart | RunCancel | RunResume:
    """The typed command, or InvalidMessage naming what is wrong."""
    return parse_with(_client_adapter, content)


def parse_with(adapter: TypeAdapter, content: dict[str, Any]) -> Any:
    """`content` validated by a union of commands, or InvalidMessage naming the first problem."""
    try:
        return adapter.validate_python(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "union_tag_invalid":
            raise InvalidMessage("unknown_type", f"Unknown message type {content.get('type')!r}.") from exc
        where = ".".join(str(part) for part in first["loc"][1:])
        text = first["msg"].removeprefix("Value error, ")
        raise InvalidMessage("invalid_message", f"{where}: {text}" if where else text) from exc


# --- server → client ---------------------------------------------------------------------------


class RunStarted(_Message):
    type: Literal["run.started"] = "run.started"
    run_id: str
    request_id: str | None
    model: str


class RunToken(_Message):
    type: Literal["run.token"] = "run.token"
    run_id: str
    seq: int
    delta: str


class UsageOut(_Message):
    input_tokens: int
    output_tokens: int


class RunCompleted(_Message):
    type: Literal["run.completed"] = "run.completed"
    run_id: str
    output: str
    usage: UsageOut
    cost_credits: int
    ttft_ms: int | None
    latency_ms: int | None


class RunCancelled(_Message):
    type: Literal["run.cancelled"] = "run.cancelled"
    run_id: str
    output: str
    usage: UsageOut
    cost_credits: int


class ErrorBody(_Message):
    code: str
    message: str
    retry_after: float | None = None


class RunFailed(_Message):
    type: Literal["run.failed"] = "run.failed"
    run_id: str | None  # None when the run was refused before it existed (validation, throttle)
    request_id: str | None = None
    error: ErrorBody
    output: str = ""


def run_failed_frame(
    *, run_id: str | None, code: str, message: str, request_id: str | None = None, retry_after: float | None = None
) -> dict[str, Any]:
    body = ErrorBody(code=code, message=message, retry_after=retry_after)
    return RunFailed(run_id=run_id, request_id=request_id, error=body).model_dump(exclude_none=False)


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


# --- Redis key names -----------------------------------------------------------------------------


def run_stream_key(run_id: str) -> str:
    """Redis Stream holding a run's frames (for `run.resume` on any process)."""
    return f"llm:run:{run_id}:frames"


def run_alive_key(run_id: str) -> str:
    """Refreshed by the process running the run; gone soon after that process dies."""
    return f"llm:run:{run_id}:alive"


def run_attached_key(run_id: str) -> str:
    """Set (with a short TTL) while a client follows the run from another process."""
    return f"llm:run:{run_id}:attached"


# Pub/sub channel on which any process asks the process running a run to cancel it.
CANCEL_CHANNEL = "llm:run-cancel"


def run_cancel_key(run_id: str) -> str:
    """Set when a client on another process asks to cancel the run."""
    return f"llm:run:{run_id}:cancel"
