from django.urls import path

from accounts.ws.origins import OriginValidator
from game.consumers import EventsConsumer, LeaderboardConsumer

websocket_urlpatterns = [
    path("ws/events/", OriginValidator(EventsConsumer.as_asgi())),
    path(
        "ws/leaderboard/<str:board>/",
        OriginValidator(LeaderboardConsumer.as_asgi(), extra_origins_setting="WIDGET_ALLOWED_ORIGINS"),
    ),
]
