"""Game REST endpoints: thin wrappers over the selectors and leaderboards."""

from dataclasses import asdict

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from game import notifications, selectors, services
from game.leaderboards.reads import leaderboard_around, leaderboard_count, leaderboard_rank, leaderboard_top
from game.models import BadgeUnlock
from game.serializers import (
    AwardInputSerializer,
    AwardSerializer,
    BadgeSerializer,
    CreditEntrySerializer,
    LeaderboardQuerySerializer,
    LeaderboardSerializer,
    NotificationQuerySerializer,
    NotificationReadResultSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    ProfileSerializer,
    XPEventSerializer,
)


class ProfileView(APIView):
    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(selectors.player_profile(request.user)).data)


class BadgeListView(ListAPIView):
    serializer_class = BadgeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: badges are data, not a table
            return BadgeUnlock.objects.none()
        return selectors.badge_list(self.request.user)


class XPEventListView(ListAPIView):
    serializer_class = XPEventSerializer

    def get_queryset(self):
        return selectors.xp_event_list(self.request.user)


class CreditEntryListView(ListAPIView):
    serializer_class = CreditEntrySerializer

    def get_queryset(self):
        return selectors.credit_entry_list(self.request.user)


class LeaderboardView(APIView):
    """Ranked entries of a board, a page at a time; `around=me` adds the caller's neighbourhood."""

    @extend_schema(parameters=[LeaderboardQuerySerializer], responses=LeaderboardSerializer)
    def get(self, request: Request) -> Response:
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        board, page, size = (
            query.validated_data["board"],
            query.validated_data["page"],
            query.validated_data["page_size"],
        )
        count = leaderboard_count(board=board)
        top = leaderboard_top(board=board, limit=size, offset=(page - 1) * size)
        mine = leaderboard_rank(board=board, user_id=request.user.pk)
        body = {
            "board": board,
            "count": count,
            "next": self._page_url(request, page + 1) if page * size < count else None,
            "previous": self._page_url(request, page - 1) if page > 1 else None,
            "results": [entry.as_entry() for entry in top],
            "me": {"rank": mine[0], "score": mine[1]} if mine else None,
        }
        if query.validated_data.get("around") == "me":
            radius = query.validated_data["radius"]
            window = leaderboard_around(board=board, user_id=request.user.pk, radius=radius)
            body["around"] = [entry.as_entry() for entry in window]
        return Response(body)

    @staticmethod
    def _page_url(request: Request, page: int) -> str:
        params = request.query_params.copy()
        params["page"] = str(page)
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This idempotency key was used for a different request."
    default_code = "idempotency_conflict"


class AwardCreateView(APIView):
    """Staff only: award bonus XP (contests, events); idempotent per key like every award."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=AwardInputSerializer,
        responses={
            201: AwardSerializer,
            200: OpenApiResponse(AwardSerializer, description="The key was used for this award: the first result."),
            409: OpenApiResponse(description="The key was used for another amount or reason; nothing awarded."),
        },
    )
    def post(self, request: Request) -> Response:
        data = AwardInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_id = data.validated_data["user"]
        if not get_user_model().objects.filter(pk=user_id).exists():
            raise ValidationError({"user": ["Unknown user."]})
        try:
            result = services.xp_award(
                user_id=user_id,
                amount=data.validated_data["amount"],
                reason=data.validated_data["reason"],
                idempotency_key=f"staff:{data.validated_data['idempotency_key']}",
                source=f"staff:{request.user.pk}",
            )
        except services.IdempotencyConflict as exc:
            raise IdempotencyKeyReused(str(exc)) from None
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(AwardSerializer(asdict(result)).data, status=code)


class NotificationListView(ListAPIView):
    """Your notifications, newest first (`?unread=true`: unread ones only); `unread` counts the unread."""

    serializer_class = NotificationSerializer

    @extend_schema(parameters=[NotificationQuerySerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = NotificationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return notifications.notification_list(user=self.request.user, unread_only=query.validated_data["unread"])

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread"] = notifications.unread_count(user_id=self.request.user.pk)
        return response


class NotificationUnreadCountView(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="`{unread}`: how many are unread.")})
    def get(self, request: Request) -> Response:
        return Response({"unread": notifications.unread_count(user_id=request.user.pk)})


class NotificationReadView(APIView):
    """Mark `ids` (yours; others are ignored) or `all` read; your other devices hear `notifications.read`."""

    @extend_schema(request=NotificationReadSerializer, responses=NotificationReadResultSerializer)
    def post(self, request: Request) -> Response:
        data = NotificationReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked, unread = notifications.notifications_mark_read(
            user_id=request.user.pk, ids=data.validated_data.get("ids"), everything=data.validated_data["all"]
        )
        return Response({"marked": marked, "unread": unread})
