"""Django's Redis cache with one connection pool per process and server, shared by every instance.

Under ASGI, `django.core.cache.caches` keeps its backends in a context-local store, so each request
(its own context) builds a new RedisCache, and Django's builds a connection pool per instance that
nothing closes: a Redis connection opened per request (the throttles touch the cache on every
one) stayed open and idle, the server's client count and the process's memory growing for as long
as it served (bench/soak.py). redis-py's pools are thread-safe and reset themselves after a fork.
"""

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_pools: dict[tuple[str, type, str], Any] = {}
_pools_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write: bool):
        index = self._get_connection_pool_index(write)
        key = (self._servers[index], self._pool_class, repr(sorted(self._pool_options.items())))
        pool = _pools.get(key)
        if pool is None:
            with _pools_lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(self._servers[index], **self._pool_options)
        return pool


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient
