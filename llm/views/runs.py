"""`llm/runs/`: start a run (JSON when it finishes, or SSE while it streams) and read run history."""

import json
import math
from collections.abc import AsyncIterator
from contextlib import aclosing

from channels.db import database_sync_to_async
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core import unavailable
from llm import selectors, services
from llm.events import TERMINAL_TYPES
from llm.execution import run_frames
from llm.filters import RunFilter
from llm.models import LLMRun, RunStatus
from llm.serializers import RunCreateSerializer, RunSerializer

SSE_KEEPALIVE_SECONDS = 15
_PARAMS = {"temperature", "max_tokens", "system"}
# Refusals that mean "not now" rather than "not like this".
_RETRY_LATER = {"rate_limited", "concurrency_limit"}


def _refusal(exc: services.RunRefused) -> Response:
    if exc.code in _RETRY_LATER:
        # Whole seconds, rounded up: a client waiting that long finds the window reopened.
        headers = {"Retry-After": str(math.ceil(exc.retry_after or 5))}
        return Response({"detail": exc.message, "code": exc.code}, status=429, headers=headers)
    if exc.code == "provider_unavailable":
        headers = {"Retry-After": str(math.ceil(exc.retry_after or 60))}
        return Response({"detail": exc.message, "code": exc.code}, status=503, headers=headers)
    if exc.code == "email_unverified":  # allowed once the account proves its email, not before
        return Response({"detail": exc.message, "code": exc.code}, status=403)
    if exc.errors:
        return Response({exc.field: exc.errors}, status=400)
    if exc.field in _PARAMS:
        return Response({"params": {exc.field: [exc.message]}}, status=400)
    if exc.field:
        return Response({exc.field: [exc.message]}, status=400)
    return Response({"detail": exc.message, "code": exc.code}, status=400)


async def _sse(started: services.StartedRun) -> AsyncIterator[bytes]:
    async for frame in run_frames(started.run, started.request, keepalive=SSE_KEEPALIVE_SECONDS):
        if frame is None:
            yield b": keepalive\n\n"  # a comment line: keeps idle proxies from closing the stream
            continue
        yield f"event: {frame['type']}\ndata: {json.dumps(frame, separators=(',', ':'))}\n\n".encode()


async def _finished_run_json(started: services.StartedRun) -> AsyncIterator[bytes]:
    terminal: dict = {}
    async with aclosing(run_frames(started.run, started.request)) as frames:
        async for frame in frames:
            if frame is not None and frame["type"] in TERMINAL_TYPES:
                terminal = frame
                break
    try:
        run = await database_sync_to_async(LLMRun.objects.get)(pk=started.run.pk)
    except unavailable.UNAVAILABLE_ERRORS:
        run = started.run
    body = RunSerializer(run).data
    if run.status == RunStatus.RUNNING and terminal.get("error"):
        # Not recorded yet (llm.settling): the client gets the end its frame told, as it will be recorded.
        error = {"code": terminal["error"]["code"], "message": terminal["error"]["message"]}
        body |= {"status": RunStatus.FAILED, "output": terminal.get("output", ""), "error": error}
    yield json.dumps(body).encode()


class RunListCreateView(generics.ListAPIView):
    serializer_class = RunSerializer
    filterset_class = RunFilter

    def get_queryset(self):
        return selectors.run_list_for(user=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # The event stream is built by hand; whatever DRF renders here (refusals) is JSON.
        if "text/event-stream" in request.headers.get("Accept", ""):
            return JSONRenderer(), "application/json"
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        request=RunCreateSerializer,
        responses={
            (201, "application/json"): RunSerializer,
            (201, "text/event-stream"): OpenApiTypes.STR,
            400: OpenApiResponse(description="Invalid request, or the balance does not cover the run."),
            403: OpenApiResponse(
                description="`email_unverified`: an unverified account runs only the built-in models, a few a day."
            ),
            429: OpenApiResponse(description="The ai_requests throttle, or too many runs at once."),
        },
        description=(
            "Start a run and answer with the finished run. With `Accept: text/event-stream` the run streams "
            "as server-sent events, the same frames as /ws/playground/ (run.started, run.token, then "
            "run.completed, run.cancelled or run.failed)."
        ),
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        data = RunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            started = services.run_create(
                user=request.user,
                model=values["model"],
                prompt=values.get("prompt"),
                template_id=values.get("template"),
                variables=values.get("variables"),
                params=values.get("params"),
            )
        except services.RunRefused as exc:
            return _refusal(exc)
        run = started.run
        if run.status != "running":  # insufficient credits: recorded, nothing charged
            return Response(
                {"detail": run.error_message, "code": run.error_code, "run_id": str(run.pk)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # The run streams on the event loop as the body is sent, not in this worker thread.
        if "text/event-stream" in request.headers.get("Accept", ""):
            response = StreamingHttpResponse(_sse(started), content_type="text/event-stream", status=201)
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        return StreamingHttpResponse(_finished_run_json(started), content_type="application/json", status=201)


class RunDetailView(generics.RetrieveAPIView):
    serializer_class = RunSerializer

    def get_object(self) -> LLMRun:
        run = selectors.run_get_for(run_id=self.kwargs["run_id"], user=self.request.user)
        if run is None:
            raise NotFound()
        return run
