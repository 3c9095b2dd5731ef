"""The `ai_requests` throttle, shared by REST and the playground socket.

A fixed-window counter on the shared cache, atomic in Redis, so the limit holds across server
processes and under concurrent requests, unlike DRF's default history-list throttles. On Redis
it costs one round trip (it is on every run start's path); other cache backends use `add` then
`incr`.
"""

import functools
import time

from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from llm import conf

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_rate(rate: str) -> tuple[int, int]:
    num, period = rate.split("/")
    return int(num), _PERIODS[period.strip()[0]]


@functools.cache
def _counters() -> BaseCache:
    """One cache client for the process (the Redis and local-memory backends are thread-safe).

    `django.core.cache.cache` is context-local: under ASGI every thread hop starts from a copied
    context, so each run start would build a new client and open a new Redis connection.
    """
    return caches.create_connection("default")


def _count_redis(cache: RedisCache, key: str, ttl: int) -> int:
    """Create the window's counter with its expiry if absent, then increment it: one MULTI/EXEC."""
    key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(key, write=True)  # the backend's own pooled client
    pipe = client.pipeline(transaction=True)
    pipe.set(key, 0, ex=ttl, nx=True)
    pipe.incr(key)
    _, count = pipe.execute()
    return count


def _count(cache: BaseCache, key: str, ttl: int) -> int:
    cache.add(key, 0, timeout=ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=ttl)
        return 1


def ai_request_check(*, user_id) -> float | None:
    """Count one AI request for the user: None if allowed, else seconds until the window reopens."""
    limit, duration = _parse_rate(conf.ai_requests_rate())
    now = time.time()
    window = int(now // duration)
    key = f"throttle:ai_requests:{user_id}:{window}"
    cache = _counters()
    if isinstance(cache, RedisCache):
        count = _count_redis(cache, key, duration + 1)
    else:
        count = _count(cache, key, duration + 1)
    if count <= limit:
        return None
    return max(1.0, (window + 1) * duration - now)


class AIRequestsThrottle(BaseThrottle):
    scope = "ai_requests"

    def allow_request(self, request, view) -> bool:
        self._wait = ai_request_check(user_id=request.user.pk)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
