"""The `ai_requests` throttle, shared by REST and the playground socket.

A fixed-window counter on the shared cache (`add` then `incr`, both atomic in Redis), so the
limit holds across server processes and under concurrent requests, unlike DRF's default
history-list throttles.
"""

import functools
import time

from django.core.cache import BaseCache, caches
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


def ai_request_check(*, user_id) -> float | None:
    """Count one AI request for the user: None if allowed, else seconds until the window reopens."""
    limit, duration = _parse_rate(conf.ai_requests_rate())
    now = time.time()
    window = int(now // duration)
    key = f"throttle:ai_requests:{user_id}:{window}"
    cache = _counters()
    cache.add(key, 0, timeout=duration + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=duration + 1)
        count = 1
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
