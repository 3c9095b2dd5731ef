"""What "a backing service is away" means to a caller: a 503 with Retry-After, never a 500."""

import redis
from django.db import InterfaceError, OperationalError
from rest_framework.exceptions import APIException

# Redis unreachable or timing out; PostgreSQL gone, restarting or refusing connections.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
DETAIL = "The service is briefly unavailable; try again shortly."
CODE = "service_unavailable"


class ServiceUnavailable(APIException):
    status_code = 503
    default_detail = DETAIL
    default_code = CODE
    wait = RETRY_AFTER_SECONDS  # DRF's handler turns it into Retry-After


def is_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, UNAVAILABLE_ERRORS)
