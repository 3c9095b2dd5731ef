"""Rate limits kept in the shared cache (Redis when CACHE_REDIS_URL or REDIS_URL is set), so they hold across processes.

DRF's stock throttles read-modify-write a list of timestamps, which concurrent requests can
overwrite; these count per fixed window with one atomic increment instead. Rates come from
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] at request time (THROTTLE_* environment variables).

When the cache cannot be reached each throttle fails in its documented direction: the general
`anon` and `user` limits let the request through (the site stays up; what costs money is
limited in SQL), while the sign-in limits refuse it with a 503, as guessing passwords
unthrottled is worse than a minute without sign-ins.
"""

import hashlib
import logging

import redis
from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.unavailable import ServiceUnavailable

logger = logging.getLogger(__name__)


class FixedWindowRateThrottle(SimpleRateThrottle):
    """At most `num_requests` per `duration`-second window for one cache key."""

    _wait: float | None = None
    fail_open = True  # when the cache is away: let the request through (True) or answer 503

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}") from None

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        try:
            count = self._count(f"{self.key}:{window}")
        except redis.RedisError:
            if self.fail_open:
                logger.warning("throttle %s not applied: the cache is unavailable", self.scope)
                return True
            raise ServiceUnavailable() from None
        self._wait = (window + 1) * self.duration - now
        return count <= self.num_requests

    def _count(self, key: str) -> int:
        """This request's number in the window's count."""
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's key expired between add and incr
            self.cache.add(key, 1, timeout=self.duration + 1)
            return 1

    def wait(self) -> float | None:
        return self._wait


class AnonRateThrottle(FixedWindowRateThrottle):
    """Anonymous requests per client IP (`anon`)."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user is not None and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserRateThrottle(FixedWindowRateThrottle):
    """Authenticated requests per user (`user`)."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if request.user is None or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class EmailVerificationThrottle(UserRateThrottle):
    """Verification emails a user asks for (`email_verification`): each one reaches a mailbox."""

    scope = "email_verification"
    fail_open = False  # unthrottled, one account could mail any address without end


class AvatarUploadThrottle(UserRateThrottle):
    """Avatar uploads of a user (`avatar_uploads`): each one decodes up to AVATAR_MAX_PIXELS pixels."""

    scope = "avatar_uploads"


class AuthIPThrottle(FixedWindowRateThrottle):
    """Sign-in, registration and reset attempts per client IP (`auth_ip`)."""

    scope = "auth_ip"
    fail_open = False

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthAccountThrottle(FixedWindowRateThrottle):
    """Attempts per targeted account (`auth_account`), whatever IPs they come from.

    The view names the body field that identifies the account in `throttle_account_field`.
    """

    scope = "auth_account"
    fail_open = False

    def submitted(self, request) -> object:
        """The submitted fields: a DRF request's parsed body."""
        return request.data

    def get_cache_key(self, request, view) -> str | None:
        field = getattr(view, "throttle_account_field", None)
        data = self.submitted(request)
        if not field or not isinstance(data, dict) or not isinstance(data.get(field), str):
            return None
        account = data[field].strip().lower()
        if not account:
            return None
        # Hashed: any text may arrive here, and cache keys must stay short and printable.
        digest = hashlib.sha256(account.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
