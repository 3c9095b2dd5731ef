"""The one interface every LLM provider implements: stream text deltas, then the final usage.

`stream()` is an async generator: `str` deltas as they arrive, last exactly one `Usage`.
Failures raise `ProviderError` with one of the contract's codes; the deltas yielded before it
are the run's partial output. Retries (with backoff) happen inside, and only before the first
delta, so a caller never sees a delta twice. Cancelling the iterating task, or `aclose()`,
stops the upstream work (the HTTP response is closed, the local generation stops at its next
token). `on_queued(position)` is called, and awaited when it returns an awaitable, when the
generation must wait for a free slot (only the local model queues)::

    async with aclosing(get_provider(spec.provider).stream(request, on_queued=tell_client)) as items:
        async for item in items:
            if isinstance(item, Usage):
                ...  # the end: settle credits with item.input_tokens / item.output_tokens
            else:
                ...  # a text delta: send it to the client
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

ErrorCode = Literal["rate_limited", "timeout", "provider_error", "invalid_request"]

# Called with the number of generations ahead of this one when it has to wait for a slot.
QueuedCallback = Callable[[int], Awaitable[None] | None]


@dataclass(frozen=True)
class GenerationRequest:
    model: str  # the provider's own model name, e.g. "gpt-4o-mini" (no "provider:" prefix)
    prompt: str
    system: str | None = None
    temperature: float = 0.7
    max_tokens: int = 256
    stop: tuple[str, ...] = field(default_factory=tuple)
    # The learner's own key for the model's connection (llm.ProviderKey), sent instead of the
    # connection's; never in a repr (logs) nor compared.
    credential: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


class ProviderError(Exception):
    """A failed generation. `retryable` marks errors worth another attempt before the first token."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None, retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"ProviderError({self.code!r}, {self.message!r})"


class Provider(Protocol):
    name: str  # the kind of API: "local", "openai", "anthropic"

    def available(self) -> bool:
        """Whether the provider can be used now (key configured, model file loadable)."""
        ...

    def stream(
        self, request: GenerationRequest, *, on_queued: QueuedCallback | None = None
    ) -> AsyncIterator[str | Usage]:
        """Text deltas, then one Usage; raises ProviderError."""
        ...
