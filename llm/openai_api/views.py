"""`/v1/models` and `/v1/chat/completions`: OpenAI's wire format over PromptCraft runs.

The view parses, authenticates and starts the run in Django's worker thread, then answers with
a body the event loop streams as the run goes: server-sent `chat.completion.chunk` events, or
the `chat.completion` once the run ends, its status line held until then (`deferred_status`) so
that a run failing upstream is an error status, not a 200. A client that goes away cancels its
run upstream; it is charged what it used.
"""

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.authentication import PersonalKeyAuthentication
from llm import registry, services
from llm.execution import run_frames
from llm.openai_api import errors
from llm.openai_api.deferred_status import StatusHolder, defer_status
from llm.openai_api.formatting import SSE_KEEPALIVE, Completion, model_object, sse_event
from llm.openai_api.parsing import ChatRequest, chat_request_parse

KEEPALIVE_SECONDS = 15
RUN_ID_HEADER = "X-PromptCraft-Run-Id"
# run_prepare's field names, as the OpenAI request names them.
_PARAM_NAMES = {"prompt": "messages", "system": "messages"}
# A run's failure codes (the playground's) as OpenAI error types.
_FAILURE_TYPES = {"rate_limited": "requests", "invalid_request": errors.INVALID_REQUEST}
_FAILURE_STATUS = {"rate_limited": 429, "invalid_request": 400, "timeout": 504, "interrupted": 503}


class OpenAIView(APIView):
    """JSON in, JSON out, OpenAI's error shape; a personal API key or an access JWT as Bearer."""

    authentication_classes = (PersonalKeyAuthentication, JWTAuthentication)
    permission_classes = (IsAuthenticated,)
    renderer_classes = (JSONRenderer,)
    parser_classes = tuple(p for p in api_settings.DEFAULT_PARSER_CLASSES if p.media_type == "application/json")

    def get_exception_handler(self):
        return errors.openai_exception_handler

    def perform_content_negotiation(self, request, force=False):
        return JSONRenderer(), "application/json"  # whatever the client accepts: the streams are built by hand


def _usable_model(model_id: str) -> registry.ModelSpec:
    try:
        spec = registry.model_get(model_id)
    except registry.UnknownModel:
        raise errors.model_not_found(model_id) from None
    if not spec.available():
        raise errors.model_not_found(model_id)
    return spec


class ModelListView(OpenAIView):
    @extend_schema(
        operation_id="openai_models_list",
        summary="Models (OpenAI format)",
        description="The models usable now, as OpenAI's `GET /v1/models` lists them.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        data = [model_object(listed.spec) for listed in registry.models_list() if listed.available]
        return Response({"object": "list", "data": data})


class ModelDetailView(OpenAIView):
    @extend_schema(
        operation_id="openai_model_retrieve", summary="One model (OpenAI format)", responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, model: str) -> Response:
        return Response(model_object(_usable_model(model)))


def _refusal(exc: services.RunRefused, chat: ChatRequest) -> errors.OpenAIError:
    if exc.code in ("rate_limited", "concurrency_limit"):
        return errors.rate_limited(exc.message, exc.retry_after)
    if exc.code == "email_unverified":  # allowed once the account proves its email, not before
        return errors.OpenAIError(exc.message, status_code=403, code="email_unverified")
    if exc.field == "model":
        return errors.model_not_found(chat.model)
    param = chat.max_tokens_param if exc.field == "max_tokens" else _PARAM_NAMES.get(exc.field, exc.field)
    return errors.OpenAIError(exc.message, param=param)


def _failure(frame: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The status and error object of a run that failed or was cancelled after it started."""
    if frame["type"] == "run.cancelled":  # by its owner (a `run.cancel` naming it): not worth a retry
        return 400, errors.error_body("The run was cancelled.", code="run_cancelled")
    error = frame.get("error") or {}
    code = error.get("code") or "provider_error"
    body = errors.error_body(
        error.get("message") or "The run failed.", type=_FAILURE_TYPES.get(code, "server_error"), code=code
    )
    return _FAILURE_STATUS.get(code, 502), body


def _frames(started: services.StartedRun, *, keepalive: float | None = KEEPALIVE_SECONDS):
    return aclosing(run_frames(started.run, started.request, keepalive=keepalive, cancel_on_close=True))


async def _event_stream(started: services.StartedRun, completion: Completion) -> AsyncIterator[bytes]:
    async with _frames(started) as frames:
        async for frame in frames:
            if frame is None:
                yield SSE_KEEPALIVE
            elif frame["type"] == "run.started":
                yield completion.role_chunk()
            elif frame["type"] == "run.token":
                yield completion.content_chunk(frame["delta"])
            elif frame["type"] == "run.completed":
                usage = frame["usage"]
                yield completion.end_chunks(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"])
                return
            elif frame["type"] in ("run.failed", "run.cancelled"):
                yield sse_event(_failure(frame)[1])  # the SDKs raise an APIError on an `error` event
                return


async def _completion_body(
    started: services.StartedRun, completion: Completion, status: StatusHolder | None
) -> AsyncIterator[bytes]:
    # With the status line held (deferred_status), nothing may be sent before the end; without
    # it (outside ASGI), newlines, which JSON ignores, keep an idle connection open.
    async with _frames(started, keepalive=None if status else KEEPALIVE_SECONDS) as frames:
        async for frame in frames:
            if frame is None:
                yield b"\n"
            elif frame["type"] == "run.completed":
                usage = frame["usage"]
                body = completion.body(
                    output=frame["output"], input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"]
                )
                yield json.dumps(body).encode()
                return
            elif frame["type"] in ("run.failed", "run.cancelled"):
                code, error = _failure(frame)
                if status is not None:
                    status.status = code
                yield json.dumps(error).encode()
                return


class ChatCompletionsView(OpenAIView):
    @extend_schema(
        operation_id="openai_chat_completions_create",
        summary="Chat completion (OpenAI format)",
        description=(
            "OpenAI's `POST /v1/chat/completions`: `model`, `messages`, `stream`, `stream_options.include_usage`, "
            "`max_tokens` / `max_completion_tokens`, `temperature`, `stop`. Each call is a run in your history, "
            "charged in credits; credits exhausted: 429 `insufficient_quota`."
        ),
        request=OpenApiTypes.OBJECT,
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/event-stream"): OpenApiTypes.STR,
            400: OpenApiResponse(description="`invalid_request_error`"),
            401: OpenApiResponse(description="`invalid_api_key`"),
            403: OpenApiResponse(description="`email_unverified`: only free runs of the built-in models until then"),
            404: OpenApiResponse(description="`model_not_found`"),
            429: OpenApiResponse(description="`insufficient_quota`, or a rate limit (with `Retry-After`)"),
        },
    )
    def post(self, request: Request) -> StreamingHttpResponse:
        chat = chat_request_parse(request.data)
        _usable_model(chat.model)
        try:
            started = services.run_create(
                user=request.user, model=chat.model, prompt=chat.chat.prompt, params=chat.run_params()
            )
        except services.RunRefused as exc:
            raise _refusal(exc, chat) from None
        run = started.run
        if run.status != "running":  # the balance does not cover it: recorded, nothing charged
            raise errors.insufficient_quota(run.error_message)
        completion = Completion(
            run_id=str(run.pk),
            model=run.model,
            created=int(run.created_at.timestamp()),
            max_tokens=started.request.max_tokens,
            include_usage=chat.include_usage,
        )
        if chat.stream:
            response = StreamingHttpResponse(_event_stream(started, completion), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
        else:
            body = _completion_body(started, completion, defer_status(request))
            response = StreamingHttpResponse(body, content_type="application/json")
        response[RUN_ID_HEADER] = str(run.pk)
        return response
