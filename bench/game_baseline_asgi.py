"""Baseline ASGI app for bench/game_widgets.py: bare Channels consumers, one per socket.

`/ws/bare/` joins one group per socket and forwards every group message (the straightforward
widget design: one channel-layer delivery per socket). `/ws/idle/` only accepts (the RSS baseline).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django_asgi_app = get_asgi_application()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

BARE_GROUP = "bench.bare"


class BareGroupConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(BARE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(BARE_GROUP, self.channel_name)

    async def bench_update(self, message: dict) -> None:
        await self.send(text_data=message["text"])


class IdleConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [path("ws/bare/", BareGroupConsumer.as_asgi()), path("ws/idle/", IdleConsumer.as_asgi())]
        ),
    }
)
