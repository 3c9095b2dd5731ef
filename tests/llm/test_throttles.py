"""The `ai_requests` counter: exact under concurrency, one window key with an expiry."""

import threading

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache.backends.locmem import LocMemCache

from llm import throttles


@pytest.fixture
def rate(settings):
    def set_rate(value: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": value},
        }

    return set_rate


def test_concurrent_requests_past_the_limit_are_refused_exactly(rate):
    rate("25/hour")
    answers: list[float | None] = []
    barrier = threading.Barrier(40)

    def request() -> None:
        barrier.wait()
        answers.append(throttles.ai_request_check(user_id="u1"))

    threads = [threading.Thread(target=request) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers.count(None) == 25
    assert all(wait is not None and 1 <= wait <= 3600 for wait in answers if wait is not None)


def test_the_window_counter_is_one_redis_key_that_expires(rate):
    rate("5/minute")

    for _ in range(3):
        throttles.ai_request_check(user_id="u2")

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    keys = client.keys("*throttle:ai_requests:u2:*")
    assert len(keys) == 1
    assert int(client.get(keys[0])) == 3
    assert 0 < client.ttl(keys[0]) <= 61
    client.close()


def test_other_cache_backends_count_with_add_and_incr(rate, monkeypatch):
    rate("2/hour")
    cache = LocMemCache("throttle-test", {})
    monkeypatch.setattr(throttles, "_counters", lambda: cache)

    answers = [throttles.ai_request_check(user_id="u3") for _ in range(3)]

    assert answers[:2] == [None, None]
    assert answers[2] is not None
