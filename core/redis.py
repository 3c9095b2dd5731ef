"""Redis clients for the whole codebase: one factory for sync and asyncio clients, and the layer's hosts.

Every client fails fast: a short connect timeout, no retries, and a read timeout that callers
lift only for commands that block on the server (XREAD BLOCK, pub/sub). Callers decide what a
failure means (a read falls back to SQL, a listener reconnects).
"""

import asyncio
import functools
import weakref
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 1.0
CHANNEL_LAYER_READ_TIMEOUT_SECONDS = 8.0


def _options(decode_responses: bool, timeout: float | None, retry: Any) -> dict[str, Any]:
    return {
        "decode_responses": decode_responses,
        "socket_timeout": timeout,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "retry": retry,
    }


@functools.cache
def _sync_client(url: str, decode_responses: bool, timeout: float | None) -> redis.Redis:
    options = _options(decode_responses, timeout, Retry(NoBackoff(), 0))
    return redis.Redis.from_url(url, **options)


def redis_client(*, decode_responses: bool = True, timeout: float | None = READ_TIMEOUT_SECONDS) -> redis.Redis:
    """The process's client for REDIS_URL with these options; `timeout=None` for blocking commands."""
    return _sync_client(settings.REDIS_URL, decode_responses, timeout)


# redis.asyncio connections belong to the loop that opened them: one client per loop and options.
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def async_redis_client(
    *, decode_responses: bool = True, timeout: float | None = READ_TIMEOUT_SECONDS
) -> aioredis.Redis:
    """The running loop's asyncio client for REDIS_URL with these options; `timeout=None` for blocking commands."""
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    key = (settings.REDIS_URL, decode_responses, timeout)
    if key not in clients:
        options = _options(decode_responses, timeout, AsyncRetry(NoBackoff(), 0))
        clients[key] = aioredis.Redis.from_url(settings.REDIS_URL, **options)
    return clients[key]


def redis_client_options() -> dict[str, Any]:
    """Connection options for clients built by others (Django's cache): fail fast, no retries."""
    return {
        "socket_timeout": READ_TIMEOUT_SECONDS,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "retry": Retry(NoBackoff(), 0),
    }


def channel_layer_hosts(url: str) -> list[dict[str, Any]]:
    """channels-redis' `hosts` for `url`.

    channels-redis blocks on BZPOPMIN for 5 s, the same as redis-py 8's default socket timeout,
    so every idle consumer would be cut with close code 1011: the read timeout is well above it,
    and still bounds every wait on a hung Redis.
    """
    return [{"address": url, "socket_timeout": CHANNEL_LAYER_READ_TIMEOUT_SECONDS}]
