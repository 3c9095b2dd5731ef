"""The admin site, its login form limited like the API's sign-in (the same per-IP and per-account buckets)."""

import math

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest, HttpResponse

from accounts.throttles import AuthAccountThrottle, AuthIPThrottle


class _LoginForm:
    """What the throttles read of a view: the field naming the targeted account."""

    throttle_account_field = "username"


class _FormAccountThrottle(AuthAccountThrottle):
    def submitted(self, request) -> object:
        return request.POST  # Django's own parse of the form, whatever its encoding


def login_retry_after(request: HttpRequest) -> float | None:
    """Count a sign-in attempt in the auth buckets; the seconds to wait if a bucket is full, else None."""
    waits = [
        throttle.wait() or 0.0
        for throttle in (AuthIPThrottle(), _FormAccountThrottle())
        if not throttle.allow_request(request, _LoginForm())
    ]
    return max(waits) if waits else None


class AdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.method == "POST":
            retry_after = login_retry_after(request)
            if retry_after is not None:
                seconds = max(1, math.ceil(retry_after))
                response = HttpResponse(
                    f"Too many sign-in attempts. Try again in {seconds} seconds.\n",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(seconds)
                return response
        return super().login(request, extra_context)


class AdminConfig(DjangoAdminConfig):
    default_site = "accounts.admin_site.AdminSite"
