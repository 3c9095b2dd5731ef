"""The browser session: the refresh token lives in an HttpOnly cookie, the access token only in page memory.

Why a cookie: the pages are separate documents, so a token held only in JavaScript memory would be
lost on every navigation. Keeping the refresh token where scripts cannot read it (HttpOnly,
SameSite=Strict, path-scoped to the session endpoints, CSRF-checked) is safer than localStorage or
sessionStorage, and the short-lived access token it yields stays in memory only. The API itself
keeps working with plain bearer tokens for every other client.
"""

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import InvalidRefreshToken, token_refresh, token_revoke


class SessionInvalid(Exception):
    """The refresh token is missing, expired, blacklisted or names an inactive user."""


def session_check(*, refresh: object) -> str:
    """Validate a refresh token handed over after login (signature, expiry, blacklist); returns it."""
    if not isinstance(refresh, str) or not refresh or len(refresh) > 4096:
        raise SessionInvalid("missing refresh token")
    try:
        RefreshToken(refresh)
    except TokenError as exc:
        raise SessionInvalid(str(exc)) from exc
    return refresh


def session_refresh(*, refresh: str) -> tuple[str, str]:
    """Rotate the refresh token; returns (access, new refresh). The used token is blacklisted."""
    if not refresh or len(refresh) > 4096:
        raise SessionInvalid("missing refresh token")
    try:
        pair = token_refresh(refresh=refresh)
    except InvalidRefreshToken as exc:
        raise SessionInvalid(str(exc)) from exc
    return pair.access, pair.refresh


def session_close(*, refresh: str) -> None:
    """Blacklist the refresh token (logout); an already invalid token needs nothing more."""
    try:
        token_revoke(refresh=refresh)
    except InvalidRefreshToken:
        return
