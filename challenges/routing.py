from django.urls import path

from accounts.ws.origins import OriginValidator
from challenges.consumers import PlaygroundConsumer

# llm's playground socket, extended with graded attempts.
websocket_urlpatterns = [
    path("ws/playground/", OriginValidator(PlaygroundConsumer.as_asgi())),
]
