"""HTTP for challenges: the catalogue, authoring, export/import, attempts (JSON or SSE), leaderboards."""

import json
import math
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from channels.db import database_sync_to_async
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from challenges import attempts, documents, selectors, services
from challenges.events import TERMINAL_TYPES
from challenges.filters import ChallengeFilter
from challenges.live import attempt_frames
from challenges.models import RESERVED_SLUGS, Challenge
from challenges.serializers import (
    AttemptCreateSerializer,
    AttemptSerializer,
    ChallengeDetailSerializer,
    ChallengeDocumentOutSerializer,
    ChallengeLeaderboardEntrySerializer,
    ChallengeListSerializer,
    ChallengePatchSerializer,
    FeatureInputSerializer,
)

SSE_KEEPALIVE_SECONDS = 15
NOT_FOUND = OpenApiResponse(description="No such challenge, or not yours to see.")
SLUG = OpenApiParameter(
    "slug",
    {"type": "string", "pattern": f"^(?!({'|'.join(sorted(RESERVED_SLUGS))})$)[-a-zA-Z0-9_]+$"},
    OpenApiParameter.PATH,
    description="Challenge slug.",
)
DOCUMENT_FIELDS = frozenset(documents.ChallengeDocumentSerializer().fields) - {"slug"}


def _wants_events(request) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "")


def _refusal(exc: attempts.AttemptRefused) -> Response:
    body: dict[str, Any]
    if exc.status == 429:
        headers = {"Retry-After": str(math.ceil(exc.retry_after or 5))}
        return Response({"detail": exc.message, "code": exc.code}, status=429, headers=headers)
    if exc.status == 404:
        return Response({"detail": exc.message, "code": exc.code}, status=404)
    if exc.field and exc.field.startswith("params."):
        body = {"params": {exc.field.removeprefix("params."): [exc.message]}}
    elif exc.field:
        body = {exc.field: [exc.message]}
    else:
        body = {"detail": exc.message, "code": exc.code}
    return Response(body, status=exc.status)


async def _sse(started: attempts.StartedAttempt) -> AsyncIterator[bytes]:
    async for frame in attempt_frames(started, keepalive=SSE_KEEPALIVE_SECONDS):
        if frame is None:
            yield b": keepalive\n\n"  # a comment line: keeps idle proxies from closing the stream
            continue
        yield f"event: {frame['type']}\ndata: {json.dumps(frame, separators=(',', ':'))}\n\n".encode()


async def _finished_attempt_json(started: attempts.StartedAttempt, user) -> AsyncIterator[bytes]:
    async with aclosing(attempt_frames(started)) as frames:
        async for frame in frames:
            if frame is not None and frame["type"] in TERMINAL_TYPES:
                break
    attempt = await database_sync_to_async(selectors.attempt_get_for)(attempt_id=started.attempt.pk, user=user)
    data = await database_sync_to_async(lambda: AttemptSerializer(attempt).data)()
    yield json.dumps(data, default=str).encode()


class ChallengeLeaderboardQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=10_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=20)


class ChallengeLeaderboardPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ChallengeLeaderboardEntrySerializer(many=True)


def _page_url(request: Request, page: int) -> str:
    params = request.query_params.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


@extend_schema_view(
    list=extend_schema(tags=["challenges"]),
    retrieve=extend_schema(
        tags=["challenges"], parameters=[SLUG], responses={200: ChallengeDetailSerializer, 404: NOT_FOUND}
    ),
)
@extend_schema(tags=["challenges"])
class ChallengeViewSet(viewsets.GenericViewSet):
    """Graded challenges: public ones and your own."""

    serializer_class = ChallengeListSerializer
    filterset_class = ChallengeFilter
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    queryset = Challenge.objects.none()

    def get_queryset(self):
        return selectors.challenge_list(user=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # The attempt event stream is built by hand; whatever DRF renders here (refusals) is JSON.
        if _wants_events(request):
            return JSONRenderer(), "application/json"
        return super().perform_content_negotiation(request, force)

    def _visible(self, slug: str) -> Challenge:
        return selectors.challenge_get_visible(slug=slug, user=self.request.user)

    def _data(self, challenge: Challenge, serializer=ChallengeDetailSerializer) -> dict:
        figures = selectors.challenge_figures(challenges=[challenge], user=self.request.user)
        return serializer(challenge, context={"figures": figures}).data

    def _detail_data(self, challenge: Challenge) -> dict:
        return self._data(selectors.challenge_reread(challenge=challenge))

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        figures = selectors.challenge_figures(challenges=page, user=request.user)
        return self.get_paginated_response(ChallengeListSerializer(page, many=True, context={"figures": figures}).data)

    def retrieve(self, request: Request, slug: str) -> Response:
        return Response(self._data(self._visible(slug)))

    @extend_schema(request=documents.ChallengeDocumentSerializer, responses={201: ChallengeDetailSerializer})
    def create(self, request: Request) -> Response:
        document = documents.ChallengeDocumentSerializer(data=request.data)
        document.is_valid(raise_exception=True)
        challenge = services.challenge_create(author=request.user, document=document.validated_data)
        return Response(self._detail_data(challenge), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SLUG],
        request=ChallengePatchSerializer,
        responses={200: ChallengeDetailSerializer, 403: None, 404: NOT_FOUND},
        description="Change any document field (the result is checked whole) and `visibility`.",
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        challenge = self._visible(slug)
        services.challenge_check_editor(challenge=challenge, actor=request.user)  # before any field is read
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send a JSON object."]})
        patch = ChallengePatchSerializer(data=request.data)
        patch.is_valid(raise_exception=True)
        changes = {key: value for key, value in request.data.items() if key in DOCUMENT_FIELDS}
        document = None
        if changes:
            merged = documents.ChallengeDocumentSerializer(data={**selectors.challenge_document(challenge), **changes})
            merged.is_valid(raise_exception=True)
            document = merged.validated_data
        challenge = services.challenge_update(
            challenge=challenge,
            actor=request.user,
            document=document,
            visibility=patch.validated_data.get("visibility"),
        )
        return Response(self._detail_data(challenge))

    @extend_schema(parameters=[SLUG], responses={200: ChallengeDocumentOutSerializer, 403: None, 404: NOT_FOUND})
    @action(detail=True, methods=["get"], filter_backends=[])
    def export(self, request: Request, slug: str) -> Response:
        """The challenge as a JSON document, hidden cases included: for its author (and staff)."""
        challenge = self._visible(slug)
        if challenge.author_id != request.user.pk and not request.user.is_staff:
            raise PermissionDenied("Only the author can export this challenge.")
        return Response(selectors.challenge_document(challenge))

    @extend_schema(request=documents.ChallengeDocumentSerializer, responses={201: ChallengeDetailSerializer})
    @action(detail=False, methods=["post"], url_path="import", filter_backends=[])
    def import_document(self, request: Request) -> Response:
        """Create a private challenge of yours from an exported document."""
        challenge = services.challenge_import(author=request.user, document=request.data)
        return Response(self._detail_data(challenge), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SLUG], request=FeatureInputSerializer, responses={200: ChallengeDetailSerializer, 403: None}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def feature(self, request: Request, slug: str) -> Response:
        """Staff: feature a public challenge (`{"featured": false}` stops featuring it)."""
        body = FeatureInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        challenge = services.challenge_feature(
            challenge=self._visible(slug), actor=request.user, featured=body.validated_data["featured"]
        )
        return Response(self._detail_data(challenge))

    @extend_schema(parameters=[SLUG], request=None, responses={200: ChallengeListSerializer, 403: None})
    @action(detail=True, methods=["post"], filter_backends=[])
    def unpublish(self, request: Request, slug: str) -> Response:
        """Staff moderation: make a challenge private to its author."""
        challenge = services.challenge_unpublish(challenge=self._visible(slug), actor=request.user)
        return Response(self._data(selectors.challenge_reread(challenge=challenge), ChallengeListSerializer))

    @extend_schema(parameters=[SLUG], responses={200: AttemptSerializer(many=True), 404: NOT_FOUND})
    @action(detail=True, methods=["get"], filter_backends=[])
    def attempts(self, request: Request, slug: str) -> Response:
        """Your attempts at the challenge, newest first."""
        challenge = self._visible(slug)
        page = self.paginate_queryset(selectors.attempt_list_for(user=request.user, challenge=challenge))
        return self.get_paginated_response(AttemptSerializer(page, many=True).data)

    @extend_schema(
        parameters=[SLUG],
        request=AttemptCreateSerializer,
        responses={
            (201, "application/json"): AttemptSerializer,
            (201, "text/event-stream"): OpenApiTypes.STR,
            400: OpenApiResponse(description="Invalid attempt, or the balance does not cover its runs."),
            404: NOT_FOUND,
            429: OpenApiResponse(description="The ai_requests allowance does not cover the attempt's runs."),
        },
        description=(
            "Grade a prompt template on every case of the challenge and answer with the graded attempt. With "
            "`Accept: text/event-stream` it streams as server-sent events, the frames of /ws/playground/: "
            "attempt.started, the public cases' run frames, attempt.case per graded sample, then "
            "attempt.completed (or attempt.cancelled / attempt.failed)."
        ),
    )
    @attempts.mapping.post
    def attempt_create(self, request: Request, slug: str) -> Response | StreamingHttpResponse:
        body = AttemptCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        try:
            started = attempts.attempt_create(
                user=request.user,
                challenge=slug,
                prompt=values["prompt"],
                model=values.get("model"),
                system=values.get("system", ""),
                params=values.get("params"),
            )
        except attempts.AttemptRefused as exc:
            return _refusal(exc)
        attempt = started.attempt
        if attempt.status != "running":  # insufficient credits: recorded, nothing charged
            return Response(
                {"detail": attempt.error_message, "code": attempt.error_code, "attempt_id": str(attempt.pk)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # The attempt grades on the event loop as the body is sent, not in this worker thread.
        if _wants_events(request):
            response = StreamingHttpResponse(_sse(started), content_type="text/event-stream", status=201)
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        return StreamingHttpResponse(
            _finished_attempt_json(started, request.user), content_type="application/json", status=201
        )

    @extend_schema(
        parameters=[SLUG, ChallengeLeaderboardQuerySerializer], responses={200: ChallengeLeaderboardPageSerializer}
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def leaderboard(self, request: Request, slug: str) -> Response:
        """Best passing score per learner; ties: fewer prompt tokens, then earlier."""
        challenge = self._visible(slug)
        query = ChallengeLeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page, size = query.validated_data["page"], query.validated_data["page_size"]
        count = selectors.challenge_solvers_count(challenge=challenge)
        entries = selectors.challenge_leaderboard(challenge=challenge, limit=size, offset=(page - 1) * size)
        body = {
            "count": count,
            "next": _page_url(request, page + 1) if page * size < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "results": entries,
        }
        return Response(ChallengeLeaderboardPageSerializer(body).data)


@extend_schema(tags=["challenges"], responses={200: AttemptSerializer, 404: OpenApiResponse(description="Not yours.")})
class AttemptDetailView(generics.RetrieveAPIView):
    """One of your attempts, graded case by case (hidden cases: pass/fail only)."""

    serializer_class = AttemptSerializer

    def get_object(self):
        return selectors.attempt_get_for(attempt_id=self.kwargs["attempt_id"], user=self.request.user)
