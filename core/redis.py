"""Redis clients for the whole codebase: one factory for sync and asyncio clients, and the layer's hosts.

Redis serves five roles, each with its own URL setting that defaults to REDIS_URL, so one Redis
serves them all until an operator splits them: the channel layer (CHANNEL_LAYER_REDIS_URLS, one or
more shards), the cache with the API throttles (CACHE_REDIS_URL), the Celery broker
(CELERY_BROKER_URL), the leaderboards (LEADERBOARD_REDIS_URL) and the run streams with the runs'
cross-process cancels and heartbeats (STREAMS_REDIS_URL). The code's own clients name their role.

Every client fails fast: a short connect timeout, no retries, and a read timeout that callers
lift only for commands that block on the server (XREAD BLOCK, pub/sub). Callers decide what a
failure means (a read falls back to SQL, a listener reconnects).
"""

import asyncio
import functools
import weakref
from typing import Any, Literal

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 1.0
CHANNEL_LAYER_READ_TIMEOUT_SECONDS = 8.0

# The roles the code opens clients for; the channel layer, cache and broker have their libraries' own.
Role = Literal["leaderboards", "streams"]
_ROLE_SETTINGS: dict[str, str] = {"leaderboards": "LEADERBOARD_REDIS_URL", "streams": "STREAMS_REDIS_URL"}
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def redis_url(role: Role) -> str:
    """The role's Redis URL; empty when it has none (dev without Redis)."""
    return getattr(settings, _ROLE_SETTINGS[role])


def redis_urls() -> dict[str, list[str]]:
    """Every role's Redis URLs (the channel layer's shards in order); a role not on Redis is left out."""
    configured = {
        "channels": list(settings.CHANNEL_LAYER_REDIS_URLS),
        "cache": [settings.CACHE_REDIS_URL],
        "broker": [settings.CELERY_BROKER_URL],  # memory:// in dev, or another broker than Redis
        **{role: [getattr(settings, name)] for role, name in _ROLE_SETTINGS.items()},
    }
    on_redis = {role: [url for url in urls if url.startswith(_REDIS_SCHEMES)] for role, urls in configured.items()}
    return {role: urls for role, urls in on_redis.items() if urls}


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


def redis_client_for_url(
    url: str, *, decode_responses: bool = True, timeout: float | None = READ_TIMEOUT_SECONDS
) -> redis.Redis:
    """The process's client for `url` (health probes of every role's Redis); code names a role instead."""
    return _sync_client(url, decode_responses, timeout)


def redis_client(
    *, role: Role, decode_responses: bool = True, timeout: float | None = READ_TIMEOUT_SECONDS
) -> redis.Redis:
    """The process's client for the role's Redis with these options; `timeout=None` for blocking commands."""
    return _sync_client(redis_url(role), decode_responses, timeout)


# redis.asyncio connections belong to the loop that opened them: one client per loop, URL and options.
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


def async_redis_client(
    *, role: Role, decode_responses: bool = True, timeout: float | None = READ_TIMEOUT_SECONDS
) -> aioredis.Redis:
    """The running loop's asyncio client for the role's Redis; `timeout=None` for blocking commands."""
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    url = redis_url(role)
    key = (url, decode_responses, timeout)
    if key not in clients:
        options = _options(decode_responses, timeout, AsyncRetry(NoBackoff(), 0))
        clients[key] = aioredis.Redis.from_url(url, **options)
    return clients[key]


def redis_client_options() -> dict[str, Any]:
    """Connection options for clients built by others (Django's cache): fail fast, no retries."""
    return {
        "socket_timeout": READ_TIMEOUT_SECONDS,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "retry": Retry(NoBackoff(), 0),
    }


def channel_layer_hosts(urls: list[str]) -> list[dict[str, Any]]:
    """channels-redis' `hosts` for `urls`: one shard each, in order (every process must list the same).

    channels-redis blocks on BZPOPMIN for 5 s, the same as redis-py 8's default socket timeout,
    so every idle consumer would be cut with close code 1011: the read timeout is well above it,
    and still bounds every wait on a hung Redis.
    """
    return [{"address": url, "socket_timeout": CHANNEL_LAYER_READ_TIMEOUT_SECONDS} for url in urls]
