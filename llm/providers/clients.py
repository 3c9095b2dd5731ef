"""SDK clients shared per event loop: connection pools are bound to the loop that opened them."""

import weakref
from asyncio import AbstractEventLoop, get_running_loop
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.conf import settings

T = TypeVar("T")

_clients: "weakref.WeakKeyDictionary[AbstractEventLoop, dict[Hashable, object]]" = weakref.WeakKeyDictionary()


def loop_client(key: Hashable, factory: Callable[[], T]) -> T:
    """The client for `key` on the running loop, built once by `factory` (key covers its config)."""
    per_loop = _clients.setdefault(get_running_loop(), {})
    client = per_loop.get(key)
    if client is None:
        client = per_loop[key] = factory()
    return client  # type: ignore[return-value]


def timeouts() -> tuple[float, float]:
    """(connect, read) timeouts in seconds; read bounds each wait for bytes, first byte included."""
    return settings.LLM_CONNECT_TIMEOUT_SECONDS, settings.LLM_READ_TIMEOUT_SECONDS
