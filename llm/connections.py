"""Connections as the providers use them: where a server is, how to talk to it, with which key.

A `ConnectionSpec` is plain, immutable data (no database): the registry builds them from the
environment (`environment_connections`, today's variables: the `openai`, `anthropic` and
`local` connections) and from `llm.Connection` rows, a row winning over the environment's
connection of the same name. Its `api_key` is left out of its repr, so no log line shows it.
"""

from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings

Kind = Literal["openai-compatible", "anthropic", "local"]
# The kind of API each environment connection speaks.
ENVIRONMENT_KINDS: dict[str, Kind] = {"local": "local", "openai": "openai-compatible", "anthropic": "anthropic"}


@dataclass(frozen=True)
class ConnectionSpec:
    name: str
    kind: Kind
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0
    enabled: bool = True
    allow_user_keys: bool = False
    from_environment: bool = False  # built from the SDKs' variables, not a database row

    @property
    def configured(self) -> bool:
        """Whether it can be called at all: an OpenAI-compatible server needs a key or its own URL."""
        if self.kind == "local":
            return True
        if self.kind == "anthropic":
            return bool(self.api_key)
        return bool(self.api_key or self.base_url)


def environment_connections() -> dict[str, ConnectionSpec]:
    """The connections today's variables describe (OPENAI_*, ANTHROPIC_*, the embedded models), read now."""
    timeouts = {
        "connect_timeout_seconds": settings.LLM_CONNECT_TIMEOUT_SECONDS,
        "read_timeout_seconds": settings.LLM_READ_TIMEOUT_SECONDS,
    }
    return {
        "local": ConnectionSpec(name="local", kind="local", from_environment=True, **timeouts),
        "openai": ConnectionSpec(
            name="openai",
            kind="openai-compatible",
            base_url=settings.OPENAI_BASE_URL,
            api_key=settings.OPENAI_API_KEY,
            from_environment=True,
            **timeouts,
        ),
        "anthropic": ConnectionSpec(
            name="anthropic",
            kind="anthropic",
            base_url=settings.ANTHROPIC_BASE_URL,
            api_key=settings.ANTHROPIC_API_KEY,
            from_environment=True,
            **timeouts,
        ),
    }
