"""API error shape: DRF's field errors or {"detail", "code"}; Django validation errors become 400s too."""

import logging
import sys
from collections.abc import Callable

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.views import exception_handler

from core import unavailable

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    # DRF converts these itself, but the code below reads the original: convert first so it says not_found etc.
    elif isinstance(exc, Http404):
        exc = NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and "code" not in data:
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", "error")
        data["code"] = code
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "Retry-After" not in response:
        response["Retry-After"] = "60"
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/v1/"))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for URLs no view matches: JSON under /api/ and /v1/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def _unavailable(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        response = JsonResponse({"detail": unavailable.DETAIL, "code": unavailable.CODE}, status=503)
    else:
        response = HttpResponse(unavailable.DETAIL, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(unavailable.RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """A view that fails because Redis or PostgreSQL is away answers 503 with Retry-After."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if unavailable.is_unavailable(exception):
            logger.warning("%s %s: %s", request.method, request.path, type(exception).__name__)
            return _unavailable(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """500: JSON under /api/, Django's page elsewhere (the error itself is logged by Django).

    Called inside Django's handler of the exception: one raised outside any view (a middleware
    reading the session while the database is away) is still a 503.
    """
    if unavailable.is_unavailable(sys.exc_info()[1]):
        return _unavailable(request)
    if _is_api(request):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
