from django.urls import path

from accounts.ws.origins import OriginValidator
from game.consumers import EventsConsumer

websocket_urlpatterns = [
    path("ws/events/", OriginValidator(EventsConsumer.as_asgi())),
]
