from django.urls import path

from accounts.ws.origins import OriginValidator
from llm.consumers import PlaygroundConsumer

websocket_urlpatterns = [
    path("ws/playground/", OriginValidator(PlaygroundConsumer.as_asgi())),
]
