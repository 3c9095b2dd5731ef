"""Helpers for game tests: run a callable in real threads, each with its own DB connection."""

import threading

import pytest
from django.db import connection


def run_in_threads(target, count: int) -> list:
    """Start `count` threads together on `target(i)`; returns each result or raised exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # collected for the test to assert on
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def threads():
    return run_in_threads


@pytest.fixture(autouse=True)
def _redis_considered_up():
    """A test that simulated a Redis outage must not leave later tests reading from SQL."""
    from game.leaderboards import reads

    reads._redis_down_until = 0.0
    yield
    reads._redis_down_until = 0.0


@pytest.fixture
def attempt():
    """`attempt(user, "a1", score=..., ...)`: record a graded attempt with defaults that unlock no extra badge."""
    from game.services import challenge_attempt_record

    def record(user, attempt_id: str, **fields):
        fields = {
            "challenge": "sentiment",
            "track": "foundations",
            "difficulty": "beginner",
            "score": 800,
            "prompt_tokens": 30,
            "passed": True,
            "par_tokens": 20,
            "track_challenges": ["sentiment", "unsolved"],
            **fields,
        }
        return challenge_attempt_record(user_id=user.pk, attempt_id=attempt_id, **fields)

    return record
