"""Shared fixtures: a clean Redis per test, API clients, users, and real server processes."""

import pytest
import redis
from rest_framework.test import APIClient

from core.redis import redis_urls
from tests.fakes.fixtures import fake_anthropic, fake_oidc, fake_openai  # noqa: F401  (fixtures)
from tests.support import processes


@pytest.fixture(autouse=True)
def _clean_redis():
    """Every test starts with an empty database in each role's Redis (layer, cache, throttles, boards, streams)."""
    for url in {url for urls in redis_urls().values() for url in urls}:
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
    yield


_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


@pytest.fixture(autouse=True)
def _fresh_llm_registry(request, settings):
    """Each test starts with no cached registry; without database access, the environment's layer alone."""
    from llm import registry

    uses_db = request.node.get_closest_marker("django_db") or _DATABASE_FIXTURES & set(request.fixturenames)
    if not uses_db:
        settings.LLM_CONNECTIONS_FROM_DATABASE = False
    registry.registry_reset()
    yield
    registry.registry_reset()


def pytest_runtest_setup(item):
    from django.db import connection

    if item.get_closest_marker("postgresql") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db):
    """Create a registered user through the registration service (welcome credits included).

    Its email is verified unless the test says `email_verified=False`: a test account spends its
    credits like any verified learner's (tests/accounts/test_verification.py covers the others).
    """
    from accounts.services import user_register

    counter = {"n": 0}

    def make(username: str | None = None, password: str = "Str0ng-pass-phrase!", **fields):
        counter["n"] += 1
        username = username or f"learner{counter['n']}"
        return user_register(
            username=username,
            email=fields.pop("email", f"{username}@example.com"),
            password=password,
            first_name=fields.pop("first_name", "Test"),
            last_name=fields.pop("last_name", "User"),
            email_verified=fields.pop("email_verified", True),
            **fields,
        )

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def auth_client(user) -> APIClient:
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def log_dir(tmp_path):
    return tmp_path


@pytest.fixture
def daphne(log_dir):
    """Factory: `server = daphne()` starts a real daphne process; all are stopped after the test."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda **env: stack.enter_context(processes.daphne_server(log_dir, **env))
