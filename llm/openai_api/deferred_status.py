"""An ASGI wrapper for responses whose status is known only once their body is.

A non-streaming completion answers 200 or an error status depending on how its run ends, but
the view returns (and Django sends `http.response.start`) when the run begins: the run streams
on the event loop, never in Django's one worker thread. A view marks such a response with
`defer_status(request)`; this wrapper then holds its `http.response.start` until the first body
message, sending it with the status the body's producer set last (`set_status`).
"""

from typing import Any

SCOPE_KEY = "promptcraft.deferred_status"


class StatusHolder:
    def __init__(self) -> None:
        self.deferred = False
        self.status: int | None = None


def defer_status(request) -> StatusHolder | None:
    """Hold this request's status line until its body starts; None outside ASGI (the status stands)."""
    scope = getattr(request, "scope", None)
    holder = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    if holder is not None:
        holder.deferred = True
    return holder


def deferred_status_app(app):
    """Wrap an ASGI app (Django's) so that views may defer their status line."""

    async def wrapped(scope: dict[str, Any], receive, send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        holder = StatusHolder()
        held: dict[str, Any] | None = None

        async def deferring_send(message: dict[str, Any]) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and holder.deferred:
                held = message
                return
            if held is not None:
                start, held = held, None
                await send({**start, "status": holder.status or start["status"]})
            await send(message)

        await app({**scope, SCOPE_KEY: holder}, receive, deferring_send)

    return wrapped
