"""Provider helpers: SSE line reading, Retry-After parsing, the retry policy."""

import email.utils
import time
from collections.abc import AsyncIterator

import pytest

from llm.providers import UnknownProvider, get_provider
from llm.providers.base import ProviderError
from llm.providers.errors import error_for_status, retry_after_seconds
from llm.providers.retry import RetryPolicy
from llm.providers.sse import sse_data


async def test_sse_data_reassembles_lines_split_across_reads():
    async def reads() -> AsyncIterator[bytes]:
        for chunk in (b'event: x\ndata: {"a"', b": 1}\r\n\r\n: comment\ndata:[DONE]", b"\n"):
            yield chunk

    payloads = [payload async for payload in sse_data(reads())]

    assert payloads == [b'{"a": 1}', b"[DONE]"]


def test_retry_after_in_seconds_milliseconds_and_http_dates():
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)

    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "3"}) == 0.25
    assert 55 <= retry_after_seconds({"retry-after": in_a_minute}) <= 60
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_status_codes_map_to_contract_codes():
    assert (error_for_status(429, "slow down").code, error_for_status(429, "x").retryable) == ("rate_limited", True)
    assert (error_for_status(503, "down").code, error_for_status(503, "x").retryable) == ("provider_error", True)
    assert (error_for_status(422, "bad").code, error_for_status(422, "x").retryable) == ("invalid_request", False)
    assert (error_for_status(403, "no").code, error_for_status(403, "x").retryable) == ("provider_error", False)


def test_retry_policy_honours_retry_after_within_the_max_wait():
    policy = RetryPolicy(max_retries=2, backoff_seconds=0.5, max_wait_seconds=8)
    limited = ProviderError("rate_limited", "x", retry_after=3, retryable=True)

    assert policy.wait_before_retry(limited, 0) == 3
    assert policy.wait_before_retry(ProviderError("rate_limited", "x", retry_after=30, retryable=True), 0) is None
    assert policy.wait_before_retry(limited, 2) is None  # retries used up


def test_retry_policy_backs_off_exponentially_with_jitter():
    policy = RetryPolicy(max_retries=5, backoff_seconds=0.5, max_wait_seconds=8)
    error = ProviderError("provider_error", "x", retryable=True)

    waits = [policy.wait_before_retry(error, attempt) for attempt in range(5)]

    assert [0.25 <= waits[0] <= 0.5, 0.5 <= waits[1] <= 1, 1 <= waits[2] <= 2, 2 <= waits[3] <= 4] == [True] * 4
    assert 4 <= waits[4] <= 8
    assert policy.wait_before_retry(ProviderError("invalid_request", "x"), 0) is None


def test_get_provider_returns_one_instance_per_name():
    assert get_provider("openai") is get_provider("openai")
    assert [get_provider(name).name for name in ("local", "openai", "anthropic")] == ["local", "openai", "anthropic"]


def test_get_provider_refuses_unknown_names():
    with pytest.raises(UnknownProvider, match="Unknown LLM provider 'gemini'"):
        get_provider("gemini")
