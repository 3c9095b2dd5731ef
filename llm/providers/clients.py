"""SDK clients shared per event loop: connection pools are bound to the loop that opened them."""

import inspect
import weakref
from asyncio import AbstractEventLoop, get_running_loop
from collections.abc import Callable, Hashable
from types import ModuleType
from typing import TypeVar

from django.conf import settings

from llm.providers.transport import AiohttpTransport

T = TypeVar("T")

_clients: "weakref.WeakKeyDictionary[AbstractEventLoop, dict[Hashable, object]]" = weakref.WeakKeyDictionary()


def loop_client(key: Hashable, factory: Callable[[], T]) -> T:
    """The client for `key` on the running loop, built once by `factory` (key covers its config)."""
    loop = get_running_loop()
    per_loop = _clients.get(loop)
    if per_loop is None:
        # Clients hold their loop, so the weak keys alone never let go of a finished one: a
        # process that runs one loop after another (tests) would keep them all.
        for closed in [other for other in _clients if other.is_closed()]:
            del _clients[closed]
        per_loop = _clients[loop] = {}
    if key not in per_loop:
        per_loop[key] = factory()
    return per_loop[key]  # type: ignore[return-value]


async def close_loop_clients() -> None:
    """Close the running loop's SDK clients and transport (a server shutting down, a test ending)."""
    for client in _clients.pop(get_running_loop(), {}).values():
        close = getattr(client, "aclose", None) or getattr(client, "close", None)
        if close is not None and inspect.isawaitable(result := close()):
            await result


def http_transport() -> AiohttpTransport | None:
    """The transport every SDK client of the running loop shares; None leaves the SDKs their own."""
    if settings.LLM_HTTP_TRANSPORT == "httpx":
        return None
    return loop_client("aiohttp-transport", AiohttpTransport)


def sdk_client(
    sdk: ModuleType,
    client_class: type[T],
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    **config: str | None,
) -> T:
    """The running loop's `client_class` of `sdk` for this config: its retries off, our timeouts and transport.

    One client per connection (its base URL, key and timeouts), each with its own pool over the
    loop's shared transport; timeouts default to LLM_CONNECT/READ_TIMEOUT_SECONDS.
    """
    connect = settings.LLM_CONNECT_TIMEOUT_SECONDS if connect_timeout is None else connect_timeout
    read = settings.LLM_READ_TIMEOUT_SECONDS if read_timeout is None else read_timeout

    def build() -> T:
        transport = http_transport()
        return client_class(
            **config,
            max_retries=0,  # our policy retries, and only before the first delta
            timeout=sdk.Timeout(read, connect=connect),  # read: each wait for bytes, the first one included
            http_client=sdk.DefaultAsyncHttpxClient(transport=transport) if transport else None,
        )

    return loop_client((client_class, *config.items(), connect, read, settings.LLM_HTTP_TRANSPORT), build)
