"""Where the sign-in pages send a visitor afterwards: the `next` parameter, only if it stays on this site."""

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

HOME = "/"


def next_path(request: HttpRequest) -> str:
    """The path (with query and fragment) `?next=` names on this site, else "/".

    Django's check refuses other hosts, other schemes, `//host` and the backslash forms browsers
    read as `//host` (`/\\host`, `\\\\host`); behind TLS it refuses plain http too.
    """
    target = request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not target or not allowed:
        return HOME
    parts = urlsplit(target)
    path = parts.path if parts.path.startswith("/") else HOME
    return path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
