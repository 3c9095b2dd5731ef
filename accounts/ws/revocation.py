"""Ending a user's open sockets when their sign-in ends: password change or reset, deactivation, logout.

Every authenticated socket joins its user's auth group (accounts.ws.auth), so one group message
reaches the user's sockets on every server process; they close with 4401. A logout names its
session (the `sid` claim a refresh token, its rotations and their access tokens share): only that
session's sockets close, and its access tokens open no socket again until they expire. The same
group tells open sockets to read their user again when the account changed under them (a new,
unverified email).
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

REVOKED = "auth.revoked"  # the group message type (handled by AuthenticatedJsonConsumer.auth_revoked)
USER_CHANGED = "auth.user_changed"  # handled by AuthenticatedJsonConsumer.auth_user_changed
SESSION_CLAIM = "sid"  # the session id every token of one sign-in carries (accounts.services.token_pair_issue)


def auth_group(user_id) -> str:
    """The channel group of every authenticated socket of a user."""
    return f"auth.{user_id}"


def _revoked_key(session_id: str) -> str:
    return f"accounts:revoked-session:{session_id}"


def sockets_close(*, user_id, session_id: str | None = None) -> None:
    """Close the user's sockets (only those of `session_id`, if given) with 4401, on every process."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(auth_group(user_id), {"type": REVOKED, "sid": session_id})


def user_changed(*, user_id) -> None:
    """Have the user's open sockets, on every process, read the user row again (call after commit)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(auth_group(user_id), {"type": USER_CHANGED})


def session_end(*, user_id, session_id: str) -> None:
    """A signed-out session: its access tokens open no socket any more, and its open sockets close."""
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    cache.set(_revoked_key(session_id), 1, timeout=int(lifetime) + 1)  # its access tokens are dead by then
    sockets_close(user_id=user_id, session_id=session_id)


def session_is_ended(session_id: str | None) -> bool:
    return session_id is not None and cache.get(_revoked_key(session_id)) is not None
