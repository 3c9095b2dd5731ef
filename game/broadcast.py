"""Live events leave only after the writing transaction commits, in one batch per service call."""

import logging
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from game.events import Message, user_group

logger = logging.getLogger(__name__)


class Outbox:
    """Collects a service call's events; `send_on_commit` registers one on_commit for all of them.

    Registered inside the service's atomic block, so a rolled-back transaction (or savepoint)
    discards the callback and nothing is sent.
    """

    def __init__(self) -> None:
        self.user_events: list[tuple[str, Message]] = []
        self.after_commit: list[Callable[[], None]] = []

    def add(self, user_id, event: Message) -> None:
        self.user_events.append((user_group(user_id), event))

    def then(self, callback: Callable[[], None]) -> None:
        """Run `callback` after commit, before the events are sent (leaderboard updates)."""
        self.after_commit.append(callback)

    def send_on_commit(self) -> None:
        if self.user_events or self.after_commit:
            transaction.on_commit(self._flush)

    def _flush(self) -> None:
        for callback in self.after_commit:
            try:
                callback()
            except Exception:  # a Redis hiccup must not fail a committed write; rebuild repairs boards
                logger.exception("game after-commit step failed")
        if self.user_events:
            try:
                send_user_events(self.user_events)
            except Exception:
                logger.exception("game events could not be sent")


def send_user_events(events: list[tuple[str, Message]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, event in events:
            await layer.group_send(group, {"type": "game.event", "event": event.model_dump(mode="json")})

    async_to_sync(send_all)()
