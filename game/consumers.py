"""WebSocket consumers of the game: the user's own event stream and the public leaderboard widget."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from accounts.ws.auth import AuthenticatedJsonConsumer, JsonConsumer
from game.events import LeaderboardSnapshot, user_group
from game.hub import MAX_WIDGET_SIZE, keep_joined, leaderboard_hub, read_top, update_frames
from game.leaderboards.boards import is_board

logger = logging.getLogger(__name__)

DEFAULT_WIDGET_SIZE = 10
CLOSE_BAD_REQUEST = 4400
# An alias with no CHANNEL_LAYERS entry: widget sockets get no channel of their own (the hub has one).
NO_CHANNEL_LAYER = "game-widget-no-layer"


class EventsConsumer(AuthenticatedJsonConsumer):
    """`/ws/events/`: the caller's own game events (joined to the user's group once authenticated)."""

    _group: str | None = None
    _rejoin: asyncio.Task | None = None

    async def on_authenticated(self) -> None:
        self._group = user_group(self.user.pk)
        await self.channel_layer.group_add(self._group, self.channel_name)
        rejoin = keep_joined(self.channel_layer, self._group, self.channel_name)
        self._rejoin = asyncio.get_running_loop().create_task(rejoin)

    async def on_disconnected(self, code: int) -> None:
        if self._rejoin is not None:
            self._rejoin.cancel()
        if self._group is not None:
            await self.channel_layer.group_discard(self._group, self.channel_name)

    async def game_event(self, message: dict[str, Any]) -> None:
        """A committed game event for this user: forwarded as is."""
        await self.send_json(message["event"])

    async def handle(self, content: dict[str, Any]) -> None:
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_error("unknown_type", f"Unknown message type {content['type']!r}.")


class LeaderboardConsumer(JsonConsumer):
    """`/ws/leaderboard/{board}/`: public, read-only. A snapshot, then updates when shown ranks change.

    A challenge board is named by slug alone (the game sits below the challenges app): one that
    nobody has solved yet is an empty board.
    """

    channel_layer_alias = NO_CHANNEL_LAYER
    max_message_chars = 256  # a read-only widget: clients send at most a ping
    board: str = ""
    size: int = DEFAULT_WIDGET_SIZE
    _shown: list[dict[str, Any]] | None = None
    _joined = False
    _missed = False

    async def connect(self) -> None:
        board = self.scope["url_route"]["kwargs"]["board"]
        size = _widget_size(self.scope.get("query_string", b""))
        await self.accept()
        if not is_board(board) or size is None:
            message = f"Unknown board {board!r}." if not is_board(board) else f"size must be 1..{MAX_WIDGET_SIZE}."
            await self.send_error("invalid_request", message)
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.board, self.size = board, size
        hub = leaderboard_hub()
        await hub.join(self)
        self._joined = True
        entries = (await read_top(board))[:size]
        self._shown = entries
        await self.send_json(LeaderboardSnapshot(board=board, entries=entries).model_dump(mode="json"))
        if self._missed:  # a refresh came while the snapshot was being read: it may be newer
            latest = await read_top(board)
            await self.show(latest, update_frames(board, latest))

    async def disconnect(self, code: int) -> None:
        if self._joined:
            leaderboard_hub().leave(self)

    async def show(self, entries: list[dict[str, Any]], frame: Callable[[int], str]) -> None:
        """Called by the hub with the board's current top entries and their update frame per size."""
        if self._shown is None:
            self._missed = True  # the snapshot is still on its way; it re-checks once sent
            return
        mine = entries[: self.size]
        if mine != self._shown:
            self._shown = mine
            await self.base_send({"type": "websocket.send", "text": frame(self.size)})

    async def receive_message(self, content: dict[str, Any]) -> None:
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_error("read_only", "This socket only sends leaderboard updates.")


def _widget_size(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin1")).get("size")
    if not values:
        return DEFAULT_WIDGET_SIZE
    try:
        size = int(values[0])
    except ValueError:
        return None
    return size if 1 <= size <= MAX_WIDGET_SIZE else None
