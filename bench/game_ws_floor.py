"""Floor for bench/game_widgets.py: a plain `websockets` server (no Django, no Channels) that
broadcasts every message published on a Redis channel to all its sockets.

    python bench/game_ws_floor.py PORT REDIS_URL
"""

import asyncio
import sys

import redis.asyncio as aioredis
from websockets.asyncio.server import broadcast, serve

CHANNEL = "bench.floor"


async def main(port: int, redis_url: str) -> None:
    clients = set()

    async def handler(ws) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    client = aioredis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async with serve(handler, "127.0.0.1", port, ping_interval=None):
        print("ready", flush=True)
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(clients, message["data"].decode())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
