"""The browser session: the refresh token lives in an HttpOnly cookie, the access token only in page memory.

Why a cookie: the pages are separate documents, so a token held only in JavaScript memory would be
lost on every navigation. Keeping the refresh token where scripts cannot read it (HttpOnly,
SameSite=Strict, path-scoped to the session endpoints, CSRF-checked) is safer than localStorage or
sessionStorage, and the short-lived access token it yields stays in memory only. The API itself
keeps working with plain bearer tokens for every other client.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import InvalidRefreshToken, token_refresh, token_revoke

# A page asks for an access token on every load. Rotating the refresh token each time would log
# the user out whenever a navigation drops the answer carrying the rotated cookie (the server has
# already blacklisted the old one), so the cookie's token is rotated only once it is this old.
DEFAULT_ROTATE_AFTER_SECONDS = 10 * 60


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
    """An access token for the cookie's refresh token; returns (access, refresh to keep).

    A refresh token older than WEB_SESSION_ROTATE_SECONDS is rotated (and blacklisted) on the way.
    """
    if not refresh or len(refresh) > 4096:
        raise SessionInvalid("missing refresh token")
    try:
        token = RefreshToken(refresh)  # signature, expiry and blacklist
    except TokenError as exc:
        raise SessionInvalid(str(exc)) from exc
    rotate_after = getattr(settings, "WEB_SESSION_ROTATE_SECONDS", DEFAULT_ROTATE_AFTER_SECONDS)
    if time.time() - float(token.get("iat", 0)) >= rotate_after:
        try:
            pair = token_refresh(refresh=refresh)
        except InvalidRefreshToken as exc:
            raise SessionInvalid(str(exc)) from exc
        return pair.access, pair.refresh
    user_id = token.get(settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id"))
    if not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
        raise SessionInvalid("No active account found for the given token.")
    return str(token.access_token), refresh


def session_close(*, refresh: str) -> None:
    """Blacklist the refresh token (logout); an already invalid token needs nothing more."""
    try:
        token_revoke(refresh=refresh)
    except InvalidRefreshToken:
        return
