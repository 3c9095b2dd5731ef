"""Mapping of provider HTTP failures onto the contract's error codes."""

import email.utils
import time
from collections.abc import Mapping
from types import ModuleType

import httpx2

from llm.providers.base import ProviderError

# Statuses worth another attempt (before the first delta): what the SDKs themselves retry.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
INVALID_REQUEST_STATUSES = frozenset({400, 404, 413, 422})


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `retry-after` as seconds or an HTTP date)."""
    for name, per_second in (("retry-after-ms", 1000), ("retry-after", 1)):
        if raw := headers.get(name):
            try:
                return max(0.0, float(raw) / per_second)
            except ValueError:
                pass
    parsed = email.utils.parsedate_tz(headers.get("retry-after") or "")
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


OWN_KEY_REFUSED = "The provider refused your API key for this connection: check it, or replace it under llm/my-keys/."


def error_for_status(
    status: int, detail: str, *, retry_after: float | None = None, own_key: bool = False
) -> ProviderError:
    """The ProviderError for an HTTP error answer from a provider (`own_key`: the learner's key was sent)."""
    if status == 429:
        return ProviderError(
            "rate_limited", f"The provider is rate limiting requests: {detail}", retry_after=retry_after, retryable=True
        )
    if status in INVALID_REQUEST_STATUSES:
        return ProviderError("invalid_request", f"The provider rejected the request: {detail}")
    if status in (401, 403) and own_key:
        return ProviderError("provider_error", OWN_KEY_REFUSED)
    if status in (401, 403):
        # Our key, not the user's request: an operator problem, reported without retrying.
        return ProviderError("provider_error", "The provider refused our credentials.")
    retryable = status in RETRYABLE_STATUSES or status >= 500
    return ProviderError(
        "provider_error", f"The provider failed ({status}): {detail}", retry_after=retry_after, retryable=retryable
    )


def error_for_stream_event(kind: str, detail: str) -> ProviderError:
    """An error reported inside a 200 stream (e.g. Anthropic `overloaded_error`)."""
    if kind == "rate_limit_error":
        return ProviderError("rate_limited", f"The provider is rate limiting requests: {detail}", retryable=True)
    if kind in ("invalid_request_error", "not_found_error", "request_too_large"):
        return ProviderError("invalid_request", f"The provider rejected the request: {detail}")
    return ProviderError("provider_error", f"The provider failed mid-stream ({kind}): {detail}", retryable=True)


def broken_stream_error(detail: str) -> ProviderError:
    return ProviderError("provider_error", f"The provider's stream broke off: {detail}", retryable=True)


def raise_for_exception(exc: Exception, sdk: ModuleType, *, answered: bool, own_key: bool = False) -> None:
    """Raise the ProviderError for an exception of `sdk` (the `openai` or `anthropic` module) or its HTTP client.

    A timeout once the stream has `answered` (its end came, the body was held open) is no error; any
    other exception (a ProviderError raised while reading included) is raised as it is.
    """
    if isinstance(exc, sdk.APIStatusError):
        detail = body_detail(exc.body, exc.message)
        retry_after = retry_after_seconds(exc.response.headers)
        raise error_for_status(exc.status_code, detail, retry_after=retry_after, own_key=own_key) from exc
    # The SDKs raise their own errors for the request; reading the body raises httpx2's.
    if isinstance(exc, (sdk.APITimeoutError, httpx2.TimeoutException)):
        if not answered:
            raise ProviderError("timeout", "The provider did not answer in time.") from exc
    elif isinstance(exc, sdk.APIConnectionError):
        raise ProviderError("provider_error", f"Could not reach the provider: {exc}", retryable=True) from exc
    elif isinstance(exc, (httpx2.HTTPError, ValueError)):  # a cut or malformed body
        raise broken_stream_error(str(exc) or type(exc).__name__) from exc
    else:
        raise exc
