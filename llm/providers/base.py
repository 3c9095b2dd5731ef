"""The one interface every LLM provider implements: stream text deltas, then the final usage.

A provider's `stream()` is an async generator. It yields `str` text deltas as they arrive and,
last, exactly one `Usage`. Failures raise `ProviderError` with one of the contract's codes.
Cancelling the task that iterates it (or calling `aclose()`) must stop the upstream work: close
the HTTP response / stop the local generation in a `finally`.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

ErrorCode = Literal["rate_limited", "timeout", "provider_error", "invalid_request"]


@dataclass(frozen=True)
class GenerationRequest:
    model: str  # the provider's own model name, e.g. "gpt-4o-mini" (no "provider:" prefix)
    prompt: str
    system: str | None = None
    temperature: float = 0.7
    max_tokens: int = 256
    stop: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


class ProviderError(Exception):
    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


class Provider(Protocol):
    name: str  # "local", "openai", "anthropic"

    def available(self) -> bool:
        """Whether the provider can be used now (key configured, model file loadable)."""
        ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[str | Usage]:
        """Text deltas, then one Usage; raises ProviderError."""
        ...
