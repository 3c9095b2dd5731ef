"""OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, for every refusal of /v1/."""

import math
from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core import unavailable

INVALID_REQUEST = "invalid_request_error"


class OpenAIError(exceptions.APIException):
    """A refusal already in OpenAI's terms."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.body = error_body(message, type=type, param=param, code=code)
        self.wait = None if retry_after is None else math.ceil(retry_after)


def error_body(message: str, *, type: str = INVALID_REQUEST, param: str | None = None, code: str | None = None):
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def model_not_found(model: str) -> OpenAIError:
    return OpenAIError(
        f"The model `{model}` does not exist or you do not have access to it.",
        status_code=status.HTTP_404_NOT_FOUND,
        param="model",
        code="model_not_found",
    )


def rate_limited(message: str, retry_after: float | None) -> OpenAIError:
    return OpenAIError(
        message, status_code=429, type="requests", code="rate_limit_exceeded", retry_after=retry_after or 5
    )


def insufficient_quota(message: str) -> OpenAIError:
    return OpenAIError(message, status_code=429, type="insufficient_quota", code="insufficient_quota")


def _message(detail: Any) -> str:
    """DRF's detail (a string, or field errors) as one sentence."""
    if isinstance(detail, dict):
        return " ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


def _translated(exc: Exception) -> OpenAIError | None:
    if isinstance(exc, OpenAIError):
        return exc
    if isinstance(exc, exceptions.NotAuthenticated):
        return OpenAIError(
            "You didn't provide an API key: send it as `Authorization: Bearer <key>`.",
            status_code=401,
            code="invalid_api_key",
        )
    if isinstance(exc, exceptions.AuthenticationFailed):
        return OpenAIError("Incorrect API key provided.", status_code=401, code="invalid_api_key")
    if isinstance(exc, exceptions.Throttled):
        return rate_limited("Too many requests; try again later.", exc.wait)
    if unavailable.is_unavailable(exc):
        return OpenAIError(
            unavailable.DETAIL,
            status_code=503,
            type="server_error",
            code=unavailable.CODE,
            retry_after=unavailable.RETRY_AFTER_SECONDS,
        )
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else None
        return OpenAIError(_message(exc.detail), status_code=exc.status_code, code=code)
    return None


def openai_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's exception handler for the /v1/ views: every refusal in OpenAI's error shape."""
    error = _translated(exc)
    if error is None:
        return exception_handler(exc, context)  # not an API error: DRF's handling (a 500 is logged)
    headers = {"Retry-After": str(error.wait)} if error.wait is not None else {}
    if error.status_code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return Response(error.body, status=error.status_code, headers=headers)
