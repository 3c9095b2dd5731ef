"""GET /healthz: 200 when the database and (where configured) Redis answer, 503 naming what does not."""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from core.redis import redis_client

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


def _redis_ok() -> bool:
    try:
        return bool(redis_client().ping())
    except Exception:
        return False


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok()}
    if settings.REDIS_URL:
        checks["redis"] = _redis_ok()
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
