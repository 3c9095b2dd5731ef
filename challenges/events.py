"""`attempt.*` messages on `/ws/playground/` (both directions); the run frames are llm's.

Client commands are one discriminated union, so any bad message becomes one `error` reply.
Frames about hidden cases carry only their id and pass/fail.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from llm.events import parse_with
from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS

TERMINAL_TYPES = frozenset({"attempt.completed", "attempt.cancelled", "attempt.failed"})


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client → server ---------------------------------------------------------------------------


class AttemptParams(_Message):
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)


class AttemptStart(_Message):
    type: Literal["attempt.start"]
    request_id: str | None = Field(default=None, max_length=100)
    challenge: str = Field(min_length=1, max_length=80)
    model: str | None = Field(default=None, min_length=1, max_length=100)
    prompt: str = Field(max_length=PROMPT_MAX_CHARS)
    system: str | None = Field(default=None, max_length=SYSTEM_MAX_CHARS)
    params: AttemptParams | None = None


class AttemptCancel(_Message):
    type: Literal["attempt.cancel"]
    attempt_id: str = Field(max_length=64)


ClientMessage = Annotated[AttemptStart | AttemptCancel, Field(discriminator="type")]
_client_adapter: TypeAdapter[AttemptStart | AttemptCancel] = TypeAdapter(ClientMessage)


def parse_attempt_message(content: dict[str, Any]) -> AttemptStart | AttemptCancel:
    """The typed command, or llm.events.InvalidMessage naming what is wrong."""
    return parse_with(_client_adapter, content)


# --- server → client ---------------------------------------------------------------------------


class CaseRef(_Message):
    id: str
    hidden: bool


class CheckOut(_Message):
    type: str
    passed: bool
    message: str


class AttemptStarted(_Message):
    type: Literal["attempt.started"] = "attempt.started"
    attempt_id: str
    request_id: str | None
    challenge: str
    model: str
    samples: int
    cases: list[CaseRef]


class AttemptCase(_Message):
    type: Literal["attempt.case"] = "attempt.case"
    attempt_id: str
    case_id: str
    sample: int
    passed: bool
    stopped_early: bool = False
    checks: list[CheckOut] | None = None  # public cases only


class AttemptCompleted(_Message):
    type: Literal["attempt.completed"] = "attempt.completed"
    attempt_id: str
    passed: bool
    pass_rate: float
    score: int
    score_breakdown: dict[str, Any]
    prompt_tokens: int
    cost_credits: int
    xp_awarded: int
    best: bool


class AttemptCancelled(_Message):
    type: Literal["attempt.cancelled"] = "attempt.cancelled"
    attempt_id: str
    cost_credits: int


class ErrorBody(_Message):
    code: str
    message: str


class AttemptFailed(_Message):
    type: Literal["attempt.failed"] = "attempt.failed"
    attempt_id: str
    request_id: str | None = None
    error: ErrorBody
    cost_credits: int


def attempt_error_frame(
    *, code: str, message: str, request_id: str | None = None, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An `error` frame for an attempt that could not start (nothing was charged)."""
    frame = {"type": "error", "code": code, "message": message, "request_id": request_id}
    if field:
        frame["field"] = field
    return {**frame, **extra}
