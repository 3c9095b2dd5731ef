"""Baseline ASGI app for bench/llm_streaming.py: the same machine's floor and a naive design.

`/ws/echo/` sends every text frame back (a daphne WebSocket round trip, the floor any socket
path pays). `/ws/sdk/` is the straightforward playground consumer: a bare Channels consumer
that calls the OpenAI SDK (`chat.completions.create`, stream=True) for each `{"prompt": ...}`
and sends every chunk's content as a frame, then `{"done": true}`. No auth, credits or limits.
"""

import json
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django_asgi_app = get_asgi_application()

import openai  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=text_data)


class BareSdkConsumer(AsyncWebsocketConsumer):
    client: openai.AsyncOpenAI | None = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if BareSdkConsumer.client is None:
            BareSdkConsumer.client = openai.AsyncOpenAI(max_retries=0)  # OPENAI_BASE_URL / OPENAI_API_KEY
        stream = await BareSdkConsumer.client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": json.loads(text_data)["prompt"]}],
            stream=True,
            max_tokens=64,
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                await self.send(text_data=json.dumps({"delta": chunk.choices[0].delta.content}))
        await self.send(text_data=json.dumps({"done": True}))


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([path("ws/echo/", EchoConsumer.as_asgi()), path("ws/sdk/", BareSdkConsumer.as_asgi())]),
    }
)
