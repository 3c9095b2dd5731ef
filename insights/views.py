import json
from functools import partial

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.models import Challenge
from insights import freshness, selectors
from insights.caching import cached_json
from insights.serializers import InsightsSerializer
from insights.windows import MAX_DAYS, Window, window_from
from prompts.selectors import template_get_visible

WINDOW_PARAMS = [
    OpenApiParameter("from", str, description="First local day, YYYY-MM-DD (default: `days` before `to`)."),
    OpenApiParameter("to", str, description="Last local day, YYYY-MM-DD (default: today in `tz`)."),
    OpenApiParameter("days", int, description=f"Instead of `from`: the window's length, 1-{MAX_DAYS} (default 30)."),
    OpenApiParameter("bucket", str, enum=["day", "week", "month"], description="Series bucket (default day)."),
    OpenApiParameter("tz", str, description="IANA time zone of the days (default: your profile's)."),
]


def _window(request: Request) -> Window:
    return window_from(request.query_params, default_tz=getattr(request.user, "timezone", "") or "UTC")


def _answer(request: Request, body: bytes) -> HttpResponse | Response:
    """The cached bytes as they are for JSON (what the renderer would write); the browsable API renders them."""
    if request.accepted_renderer.format == "json":
        return HttpResponse(body, content_type="application/json")
    return Response(json.loads(body))


class MyInsightsView(APIView):
    @extend_schema(parameters=WINDOW_PARAMS, responses=InsightsSerializer, summary="Your usage over time")
    def get(self, request: Request) -> HttpResponse | Response:
        window = _window(request)
        compute = partial(selectors.learner_insights, user=request.user, window=window)
        return _answer(request, cached_json("me", request.user.pk, freshness.user(request.user.pk), window, compute))


class TemplateInsightsView(APIView):
    @extend_schema(parameters=WINDOW_PARAMS, responses=InsightsSerializer, summary="A template's usage over time")
    def get(self, request: Request, template_id: str) -> HttpResponse | Response:
        window = _window(request)
        template = template_get_visible(template_id=template_id, user=request.user)
        # Who ran a template is its owner's business: everyone else gets the same 404 as for a missing one.
        if template.owner_id != request.user.pk and not request.user.is_staff:
            raise Http404("No template matches the given id.")
        compute = partial(selectors.template_insights, template=template, window=window)
        scope = freshness.template(template.pk)
        return _answer(request, cached_json("template", template.pk, scope, window, compute))


class ChallengeInsightsView(APIView):
    @extend_schema(
        parameters=WINDOW_PARAMS, responses=InsightsSerializer, summary="Your challenge's attempts (its author)"
    )
    def get(self, request: Request, slug: str) -> HttpResponse | Response:
        window = _window(request)
        # Only the author: the failing cases include hidden ones, which nobody else may learn about.
        challenge = Challenge.objects.filter(slug=slug, author=request.user).first()
        if challenge is None:
            raise Http404("No challenge of yours matches the given slug.")
        compute = partial(selectors.challenge_insights, challenge=challenge, window=window)
        scope = freshness.challenge(challenge.pk)
        return _answer(request, cached_json("challenge", challenge.pk, scope, window, compute))


class PlatformInsightsView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=WINDOW_PARAMS, responses=InsightsSerializer, summary="Platform activity (staff)")
    def get(self, request: Request) -> HttpResponse | Response:
        window = _window(request)
        compute = partial(selectors.platform_insights, window=window)
        return _answer(request, cached_json("platform", "", freshness.PLATFORM, window, compute))
