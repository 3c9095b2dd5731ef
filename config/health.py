"""GET /healthz: 200 when the database and (where configured) every Redis answer, 503 naming what does not.

Each distinct Redis is probed once. The one REDIS_URL names is `redis`; one that an operator gave
a role of its own is named by its roles, e.g. `redis:leaderboards+streams` or `redis:channels.1`
(the second shard of the channel layer).
"""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from core.redis import redis_client_for_url, redis_urls

DATABASE_PROBE_TIMEOUT_SECONDS = 2.0


def _database_ok() -> bool:
    try:
        pool = getattr(connection, "pool", None)
        if pool is not None:
            # Borrow from the pool with a short wait: its own timeout would keep a probe of a dead
            # database hanging for many seconds instead of answering 503.
            pool.open()
            with pool.connection(timeout=DATABASE_PROBE_TIMEOUT_SECONDS) as conn:
                conn.execute("SELECT 1")
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _redis_ok(url: str) -> bool:
    try:
        return bool(redis_client_for_url(url).ping())
    except Exception:
        return False


def _redis_checks() -> dict[str, str]:
    """{check name: URL} for every distinct Redis the roles use."""
    roles_of: dict[str, list[str]] = {}
    for role, urls in redis_urls().items():
        for index, url in enumerate(urls):
            roles_of.setdefault(url, []).append(f"{role}.{index}" if len(urls) > 1 else role)
    return {_check_name(url, roles): url for url, roles in roles_of.items()}


def _check_name(url: str, roles: list[str]) -> str:
    return "redis" if url == settings.REDIS_URL else f"redis:{'+'.join(roles)}"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok()}
    for name, url in _redis_checks().items():
        checks[name] = _redis_ok(url)
    down = sorted(name for name, ok in checks.items() if not ok)
    body = {
        "status": "ok" if not down else "unavailable",
        "checks": {k: "ok" if v else "down" for k, v in checks.items()},
    }
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


class HealthCheckMiddleware:
    """Answers /healthz before host validation and the HTTPS redirect.

    Probes (container healthchecks, load balancers) call by IP over plain HTTP, which
    ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise refuse or redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)
