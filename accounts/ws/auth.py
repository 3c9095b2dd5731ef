"""Authenticated JSON WebSocket consumers.

A socket is authenticated by the page's session, or by a first message
`{"type": "auth", "token": "<access JWT>"}`. No valid auth within WS_AUTH_TIMEOUT_SECONDS, or a
bad/expired token, closes the socket with 4401; an authenticated socket is closed with 4401 when
its access token expires (access tokens cannot be revoked, so they must not outlive their exp), and
a session-authenticated one after WS_SESSION_MAX_SECONDS. A signed-in socket is also closed with
4401 when its sign-in ends: a password change or reset or a deactivation of its user, or a logout
of its session (accounts.ws.revocation), on whichever server process it is open.
Malformed frames get an `error` message and the socket stays open; a frame longer than the
socket type's `max_message_chars` closes it with 1009 unread.
"""

import asyncio
import json
import time
from typing import Any, NamedTuple

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.ws.revocation import SESSION_CLAIM, auth_group, session_is_ended
from core import safe_json

CLOSE_UNAUTHENTICATED = 4401
CLOSE_MESSAGE_TOO_BIG = 1009  # RFC 6455: a message too big to process


class WsAuthError(Exception):
    pass


def user_reload(user_id):
    """The user row as it is now, if still active (a socket's user after the account changed)."""
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


class TokenSignIn(NamedTuple):
    user: Any
    expires_at: float  # the token's exp, epoch seconds
    session_id: str | None  # its session (the `sid` claim), None for tokens issued before sessions had ids


def user_from_access_token(raw: object) -> TokenSignIn:
    """The active user an access token names, with its expiry and session; raises WsAuthError."""
    if not isinstance(raw, str) or not raw or len(raw) > 4096:
        raise WsAuthError("token must be a non-empty string")
    try:
        token = AccessToken(raw)
    except TokenError as exc:
        raise WsAuthError(str(exc)) from exc
    try:
        user = get_user_model().objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    except (ValueError, DjangoValidationError):
        user = None
    if user is None:
        raise WsAuthError("user not found or inactive")
    if jwt_settings.CHECK_REVOKE_TOKEN and token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(
        user.password
    ):
        raise WsAuthError("the password has changed since this token was issued")
    session_id = token.get(SESSION_CLAIM)
    if session_is_ended(session_id):
        raise WsAuthError("this session has been signed out")
    return TokenSignIn(user, float(token["exp"]), session_id)


class JsonConsumer(AsyncWebsocketConsumer):
    """JSON text frames with typed `error` replies for anything malformed."""

    # The longest message (in characters, or bytes for binary frames) this socket type reads.
    # Anything longer is refused before it is parsed; the server's own cap (config.serve) is above
    # every consumer's, so this is what clients meet.
    max_message_chars = 1024

    async def dispatch(self, message: dict[str, Any]) -> None:
        """The message's handler, without Channels' `close_old_connections` hop before it.

        Channels makes that hop on its one database thread before every handler, so a slow query
        anywhere in the process would hold up every socket's frames. These consumers never use the
        ORM on the event loop: each database call goes through `database_sync_to_async`, which
        closes stale connections around the call in the thread that makes it.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if len(text_data if text_data is not None else bytes_data or b"") > self.max_message_chars:
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return
        if text_data is None:
            await self.send_error("invalid_message", "Send JSON text frames.")
            return
        try:
            content = safe_json.loads(text_data)
        except safe_json.JSONRefused as exc:
            await self.send_error("invalid_json", str(exc))
            return
        except ValueError:
            await self.send_error("invalid_json", "The message is not valid JSON.")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("invalid_message", 'Every message is a JSON object with a "type".')
            return
        await self.receive_message(content)

    async def receive_message(self, content: dict[str, Any]) -> None:
        await self.send_error("unknown_type", f"Unknown message type {content['type']!r}.")

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

    async def send_error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})


class AuthenticatedJsonConsumer(JsonConsumer):
    """Base for sockets that belong to a user. Subclasses implement `on_authenticated` and `handle`."""

    max_message_chars = 8 * 1024  # an `auth` frame: its token is at most 4096 characters

    user = None
    session_id: str | None = None
    _auth_group: str | None = None
    _auth_timer: asyncio.TimerHandle | None = None
    _expiry_timer: asyncio.TimerHandle | None = None
    _close_task: asyncio.Future | None = None

    async def connect(self) -> None:
        await self.accept()
        scope_user = self.scope.get("user")
        if scope_user is not None and scope_user.is_authenticated and scope_user.is_active:
            # Session sockets also get an end, well inside channels' one-day group expiry, after
            # which a socket silently stops receiving its groups' messages.
            await self._become(scope_user, expires_at=time.time() + settings.WS_SESSION_MAX_SECONDS)
            return
        loop = asyncio.get_running_loop()
        self._auth_timer = loop.call_later(settings.WS_AUTH_TIMEOUT_SECONDS, self._close_unauthenticated)

    async def disconnect(self, code: int) -> None:
        for timer in (self._auth_timer, self._expiry_timer):
            if timer is not None:
                timer.cancel()
        if self._auth_group is not None:
            await self.channel_layer.group_discard(self._auth_group, self.channel_name)
        if self.user is not None:
            await self.on_disconnected(code)

    def _close_unauthenticated(self) -> None:
        # Timer callbacks are sync; keep a reference so the close task is not garbage-collected.
        self._close_task = asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))

    async def receive_message(self, content: dict[str, Any]) -> None:
        if self.user is None:
            if content["type"] != "auth":
                await self.send_error("unauthenticated", 'Authenticate first with {"type": "auth", "token": ...}.')
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            try:
                signed_in = await database_sync_to_async(user_from_access_token)(content.get("token"))
            except WsAuthError as exc:
                await self.send_error("invalid_token", str(exc))
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            await self._become(signed_in.user, signed_in.expires_at, session_id=signed_in.session_id)
            return
        if content["type"] == "auth":
            await self._renew(content.get("token"))
            return
        await self.handle(content)

    async def _renew(self, raw_token: object) -> None:
        """A fresh access token for the same user moves the socket's end to that token's expiry.

        Clients renew shortly before `exp`, so long-lived sockets never have a gap in which
        live events would be missed; a bad token or another user's ends the socket.
        """
        try:
            signed_in = await database_sync_to_async(user_from_access_token)(raw_token)
        except WsAuthError as exc:
            await self.send_error("invalid_token", str(exc))
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if signed_in.user.pk != self.user.pk:
            await self.send_error("invalid_token", "The token belongs to another user.")
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.session_id = signed_in.session_id
        # Joining again renews the membership, which channels-redis drops after a day.
        await self.channel_layer.group_add(self._auth_group, self.channel_name)
        self._schedule_expiry(signed_in.expires_at)
        await self.send_json({"type": "auth.ok", "user": self._user_body(), "renewed": True})

    async def _become(self, user, expires_at: float | None, *, session_id: str | None = None) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
            self._auth_timer = None
        self.user, self.session_id = user, session_id
        self._schedule_expiry(expires_at)
        # Join groups before saying auth.ok, so a client that sees auth.ok misses no event.
        self._auth_group = auth_group(user.pk)
        await self.channel_layer.group_add(self._auth_group, self.channel_name)
        await self.on_authenticated()
        await self.send_json({"type": "auth.ok", "user": self._user_body()})

    def _schedule_expiry(self, expires_at: float | None) -> None:
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
            self._expiry_timer = None
        if expires_at is not None:
            delay = max(0.0, expires_at - time.time())
            self._expiry_timer = asyncio.get_running_loop().call_later(delay, self._close_unauthenticated)

    async def auth_revoked(self, message: dict[str, Any]) -> None:
        """The user's sign-in ended (all of it, or the session `sid` names): close with 4401."""
        if message.get("sid") is not None and message["sid"] != self.session_id:
            return
        await self.on_revoked()
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def auth_user_changed(self, message: dict[str, Any]) -> None:
        """The account changed (accounts.ws.revocation.user_changed): read the user row again."""
        if self.user is not None:
            fresh = await database_sync_to_async(user_reload)(self.user.pk)
            if fresh is not None:
                self.user = fresh

    def _user_body(self) -> dict[str, str]:
        return {"id": str(self.user.pk), "username": self.user.username}

    async def on_authenticated(self) -> None:
        """Called once the socket knows its user (join groups here)."""

    async def on_disconnected(self, code: int) -> None:
        """Called on disconnect of an authenticated socket (leave groups here)."""

    async def on_revoked(self) -> None:
        """Called before the socket closes because its sign-in ended (stop what it started here)."""

    async def handle(self, content: dict[str, Any]) -> None:
        """An authenticated client message with a string `type`."""
        await self.send_error("unknown_type", f"Unknown message type {content['type']!r}.")
