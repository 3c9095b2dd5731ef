"""The Redis cache keeps one connection pool per process: a server does not open a connection per request."""

import httpx
import pytest
import redis
from django.conf import settings
from django.core.cache import caches

from tests.llm.runs_support import access_token


def clients_on_the_test_database() -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        db = client.connection_pool.connection_kwargs.get("db", 0)
        return sum(1 for entry in client.client_list() if int(entry["db"]) == db) - 1  # less this one
    finally:
        client.close()


def test_every_cache_instance_of_a_process_shares_one_pool():
    first, second = caches.create_connection("default"), caches.create_connection("default")

    assert first._cache._get_connection_pool(True) is second._cache._get_connection_pool(True)


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_requests_to_a_server_reuse_its_redis_connections(user, daphne):
    server = daphne()
    headers = {"Authorization": f"Bearer {access_token(user)}"}
    with httpx.Client(base_url=server.http_url, headers=headers, timeout=10) as client:
        for _ in range(5):  # the throttle reads the cache on every request
            assert client.get("/api/v1/game/profile/").status_code == 200
        before = clients_on_the_test_database()
        for _ in range(40):
            assert client.get("/api/v1/game/profile/").status_code == 200
        after = clients_on_the_test_database()

    assert after - before <= 2
