from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights import selectors
from insights.serializers import InsightsSerializer, WindowQuerySerializer
from prompts.selectors import template_get_visible

DAYS_PARAM = OpenApiParameter("days", int, description="Window length in days, 1-365 (default 30).")


def _days(request: Request) -> int:
    query = WindowQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["days"]


class MyInsightsView(APIView):
    @extend_schema(parameters=[DAYS_PARAM], responses=InsightsSerializer, summary="Your usage over time")
    def get(self, request: Request) -> Response:
        return Response(selectors.user_insights(user=request.user, days=_days(request)))


class TemplateInsightsView(APIView):
    @extend_schema(parameters=[DAYS_PARAM], responses=InsightsSerializer, summary="A template's usage over time")
    def get(self, request: Request, template_id: str) -> Response:
        days = _days(request)
        template = template_get_visible(template_id=template_id, user=request.user)
        # Who ran a template is its owner's business: everyone else gets the same 404 as for a missing one.
        if template.owner_id != request.user.pk and not request.user.is_staff:
            raise Http404("No template matches the given id.")
        return Response(selectors.template_insights(template=template, days=days))


class PlatformInsightsView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=[DAYS_PARAM], responses=InsightsSerializer, summary="Platform activity (staff)")
    def get(self, request: Request) -> Response:
        return Response(selectors.platform_insights(days=_days(request)))
