"""Retry policy for remote providers: backoff before the first delta only, never after it."""

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from django.conf import settings

from llm.providers.base import ProviderError, Usage


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff_seconds: float
    max_wait_seconds: float

    def wait_before_retry(self, error: ProviderError, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None when the error is final."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        if error.retry_after is not None:
            # A server that asks for a longer pause than we are willing to hold a user for: give up now.
            return error.retry_after if error.retry_after <= self.max_wait_seconds else None
        # Exponential backoff with jitter, so that parallel runs do not retry in lockstep.
        return min(self.max_wait_seconds, self.backoff_seconds * 2**attempt * random.uniform(0.5, 1.0))


async def stream_with_retries(attempt_stream: Callable[[], AsyncIterator[str | Usage]]) -> AsyncIterator[str | Usage]:
    """Run `attempt_stream()` again on a retryable ProviderError, as long as it has yielded nothing."""
    policy = RetryPolicy(
        max_retries=settings.LLM_MAX_RETRIES,
        backoff_seconds=settings.LLM_RETRY_BACKOFF_SECONDS,
        max_wait_seconds=settings.LLM_RETRY_MAX_WAIT_SECONDS,
    )
    attempt = 0
    while True:
        started = False
        stream = attempt_stream()
        try:
            async for item in stream:
                started = True
                yield item
            return
        except ProviderError as error:
            wait = None if started else policy.wait_before_retry(error, attempt)
            if wait is None:
                raise
        finally:
            await stream.aclose()
        await asyncio.sleep(wait)
        attempt += 1
