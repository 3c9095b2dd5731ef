"""WebSocket origin checks: a browser page may open our sockets only from an allowed origin.

A missing Origin header means a non-browser client (CLIs, servers, tests): the origin check is
a CSRF defence for browsers, not authentication, so such clients are let through to auth.
"""

from urllib.parse import urlparse

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _origin(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


def origin_allowed(origin: str | None, extra_origins: list[str] | tuple[str, ...] = ()) -> bool:
    if origin is None:
        return True
    if origin in extra_origins or origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    parsed = urlparse(origin)
    if not parsed.hostname:
        return False
    host, _port = split_domain_port(parsed.netloc)
    return validate_host(host, settings.ALLOWED_HOSTS)


class OriginValidator:
    """ASGI middleware refusing sockets whose Origin is not ours (nor in `extra_origins_setting`)."""

    def __init__(self, application, extra_origins_setting: str | None = None):
        self.application = application
        self.extra_origins_setting = extra_origins_setting

    async def __call__(self, scope, receive, send):
        extra = getattr(settings, self.extra_origins_setting, []) if self.extra_origins_setting else []
        if scope["type"] == "websocket" and not origin_allowed(_origin(scope), extra):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
