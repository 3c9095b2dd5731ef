"""SDK clients shared per event loop: connection pools are bound to the loop that opened them."""

import inspect
import weakref
from asyncio import AbstractEventLoop, get_running_loop
from collections.abc import Callable, Hashable
from typing import TypeVar

import httpx2
from django.conf import settings

from llm.providers.transport import AiohttpTransport

T = TypeVar("T")

_clients: "weakref.WeakKeyDictionary[AbstractEventLoop, dict[Hashable, object]]" = weakref.WeakKeyDictionary()


def loop_client(key: Hashable, factory: Callable[[], T]) -> T:
    """The client for `key` on the running loop, built once by `factory` (key covers its config)."""
    loop = get_running_loop()
    per_loop = _clients.get(loop)
    if per_loop is None:
        _forget_closed_loops()
        per_loop = _clients[loop] = {}
    client = per_loop.get(key)
    if client is None:
        client = per_loop[key] = factory()
    return client  # type: ignore[return-value]


def _forget_closed_loops() -> None:
    # Clients hold their loop (aiohttp's session does), so the weak keys alone never let go of
    # a finished loop: a process that runs one loop after another (tests) would keep them all.
    for loop in [loop for loop in _clients if loop.is_closed()]:
        del _clients[loop]


async def close_loop_clients() -> None:
    """Close the running loop's SDK clients and transport (a server shutting down, a test ending)."""
    for client in _clients.pop(get_running_loop(), {}).values():
        close = getattr(client, "aclose", None) or getattr(client, "close", None)
        if close is not None and inspect.isawaitable(result := close()):
            await result


def timeouts() -> tuple[float, float]:
    """(connect, read) timeouts in seconds; read bounds each wait for bytes, first byte included."""
    return settings.LLM_CONNECT_TIMEOUT_SECONDS, settings.LLM_READ_TIMEOUT_SECONDS


def transport_name() -> str:
    """`aiohttp` (default: bulk socket reads) or `httpx` (the SDKs' own transport), LLM_HTTP_TRANSPORT."""
    return "httpx" if str(getattr(settings, "LLM_HTTP_TRANSPORT", "aiohttp")).lower() == "httpx" else "aiohttp"


def http_transport() -> httpx2.AsyncBaseTransport | None:
    """The transport every SDK client of the running loop shares; None leaves the SDK its own."""
    if transport_name() == "httpx":
        return None
    return loop_client("aiohttp-transport", AiohttpTransport)
