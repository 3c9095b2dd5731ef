"""Mapping of provider HTTP failures onto the contract's error codes."""

import email.utils
import time
from collections.abc import Mapping

from llm.providers.base import ProviderError

# Statuses worth another attempt (before the first delta): what the SDKs themselves retry.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
INVALID_REQUEST_STATUSES = frozenset({400, 404, 413, 422})


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `retry-after` as seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


def body_detail(body: object, fallback: str) -> str:
    """The human message of an error body: OpenAI `{message}`, Anthropic `{error: {message}}`."""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    return fallback


def error_for_status(status: int, detail: str, *, retry_after: float | None = None) -> ProviderError:
    """The ProviderError for an HTTP error answer from a provider."""
    if status == 429:
        return ProviderError(
            "rate_limited", f"The provider is rate limiting requests: {detail}", retry_after=retry_after, retryable=True
        )
    if status in INVALID_REQUEST_STATUSES:
        return ProviderError("invalid_request", f"The provider rejected the request: {detail}")
    if status in (401, 403):
        # Our key, not the user's request: an operator problem, reported without retrying.
        return ProviderError("provider_error", "The provider refused our credentials.")
    retryable = status in RETRYABLE_STATUSES or status >= 500
    return ProviderError(
        "provider_error", f"The provider failed ({status}): {detail}", retry_after=retry_after, retryable=retryable
    )


def error_for_stream_event(kind: str, detail: str) -> ProviderError:
    """An error reported inside a 200 stream (e.g. Anthropic `overloaded_error`)."""
    if kind in ("rate_limit_error",):
        return ProviderError("rate_limited", f"The provider is rate limiting requests: {detail}", retryable=True)
    if kind in ("invalid_request_error", "not_found_error", "request_too_large"):
        return ProviderError("invalid_request", f"The provider rejected the request: {detail}")
    return ProviderError("provider_error", f"The provider failed mid-stream ({kind}): {detail}", retryable=True)


def timeout_error() -> ProviderError:
    return ProviderError("timeout", "The provider did not answer in time.")


def connection_error(detail: str) -> ProviderError:
    return ProviderError("provider_error", f"Could not reach the provider: {detail}", retryable=True)


def broken_stream_error(detail: str) -> ProviderError:
    return ProviderError("provider_error", f"The provider's stream broke off: {detail}", retryable=True)
