"""Helpers for provider tests: drain a provider stream into (deltas, usage, error)."""

from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

import pytest

from llm.providers.base import ProviderError, Usage
from llm.providers.clients import close_loop_clients


@dataclass
class Collected:
    deltas: list[str] = field(default_factory=list)
    usage: Usage | None = None
    error: ProviderError | None = None

    @property
    def text(self) -> str:
        return "".join(self.deltas)


async def collect(stream: AsyncIterator[str | Usage]) -> Collected:
    result = Collected()
    try:
        async with aclosing(stream) as items:
            async for item in items:
                if isinstance(item, Usage):
                    result.usage = item
                else:
                    result.deltas.append(item)
    except ProviderError as error:
        result.error = error
    return result


@pytest.fixture
def fast_retries(settings):
    """Short timeouts and no backoff pauses, so failure paths run in milliseconds."""
    settings.LLM_MAX_RETRIES = 2
    settings.LLM_RETRY_BACKOFF_SECONDS = 0.0
    settings.LLM_RETRY_MAX_WAIT_SECONDS = 1.0
    settings.LLM_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.LLM_READ_TIMEOUT_SECONDS = 0.5
    return settings


@pytest.fixture
async def closed_http_clients():
    """Close the test loop's SDK clients and aiohttp session at the end, as a server does on shutdown."""
    yield
    await close_loop_clients()
