"""The browser session: the refresh token lives in an HttpOnly cookie, the access token only in page memory.

Why a cookie: the pages are separate documents, so a token held only in JavaScript memory would be
lost on every navigation. Keeping the refresh token where scripts cannot read it (HttpOnly,
SameSite=Strict, path-scoped to the session endpoints, CSRF-checked) is safer than localStorage or
sessionStorage, and the short-lived access token it yields stays in memory only. The API itself
keeps working with plain bearer tokens for every other client.
"""

from django.utils.module_loading import import_string
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken


class SessionInvalid(Exception):
    """The refresh token is missing, expired, blacklisted or names an inactive user."""


def _refresh_serializer_class():
    # Prefer the accounts app's own refresh serializer (it may add locking against concurrent reuse).
    for path in ("accounts.serializers.TokenRefreshSerializer", "accounts.serializers.RefreshSerializer"):
        try:
            return import_string(path)
        except ImportError:
            continue
    return TokenRefreshSerializer


def session_check(*, refresh: str) -> None:
    """Validate a refresh token handed over after login (signature, expiry, blacklist)."""
    if not isinstance(refresh, str) or not refresh or len(refresh) > 4096:
        raise SessionInvalid("missing refresh token")
    try:
        RefreshToken(refresh)
    except TokenError as exc:
        raise SessionInvalid(str(exc)) from exc


def session_refresh(*, refresh: str) -> tuple[str, str]:
    """Rotate the refresh token; returns (access, new refresh). The used token is blacklisted."""
    if not refresh:
        raise SessionInvalid("missing refresh token")
    serializer = _refresh_serializer_class()(data={"refresh": refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except (TokenError, AuthenticationFailed) as exc:
        raise SessionInvalid(str(exc)) from exc
    except Exception as exc:  # DRF ValidationError / InvalidToken: any refusal ends the session
        raise SessionInvalid(str(exc)) from exc
    data = serializer.validated_data
    return data["access"], data.get("refresh", refresh)


def session_close(*, refresh: str) -> None:
    """Blacklist the refresh token (logout); an already invalid token needs nothing more."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError:
        return
