"""WebSocket consumers of the game: the user's own event stream."""

from accounts.ws.auth import AuthenticatedJsonConsumer


class EventsConsumer(AuthenticatedJsonConsumer):
    """`/ws/events/`: the caller's own game events (joined to the user's group once authenticated)."""
