"""Live events leave only after the writing transaction commits, in one batch per service call."""

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from game.events import LeaderboardsChanged, Message, leaderboards_group, user_group

logger = logging.getLogger(__name__)


class Outbox:
    """Collects a service call's events; `send_on_commit` registers one on_commit for all of them.

    Registered inside the service's atomic block, so a rolled-back transaction (or savepoint)
    discards the callback and nothing is sent.
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.after_commit: list[Callable[[], None]] = []

    def add(self, user_id, event: Message) -> None:
        """An event for every socket of `user_id`."""
        self.messages.append((user_group(user_id), {"type": "game.event", "event": event.model_dump(mode="json")}))

    def leaderboards_changed(self, boards: list[str]) -> None:
        """One notice per server process; each process's hub re-reads and fans out locally."""
        self.messages.append((leaderboards_group(), LeaderboardsChanged(boards=boards).model_dump(mode="json")))

    def then(self, callback: Callable[[], None]) -> None:
        """Run `callback` after commit, before the messages are sent (leaderboard writes)."""
        self.after_commit.append(callback)

    def send_on_commit(self) -> None:
        if self.messages or self.after_commit:
            transaction.on_commit(self.flush)

    def flush(self) -> None:
        for callback in self.after_commit:
            try:
                callback()
            except Exception:  # a Redis hiccup must not fail a committed write; the rebuild repairs boards
                logger.exception("game after-commit step failed")
        if self.messages:
            try:
                group_send_many(self.messages)
            except Exception:
                logger.exception("game events could not be sent")


def group_send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    async_to_sync(send_all)()
