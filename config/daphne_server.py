"""daphne's server and command line with this project's WebSocket closes (import after the loop policy is set).

autobahn drops the TCP connection when a client breaks the protocol (an oversize message among
those breaks), and lets applications close only with 1000 or 3000-4999. These servers send the
close frame instead of dropping, and pass an application's 1009 (message too big, what the
consumers answer to a message over their cap) on as is, so clients learn why they were closed.

Nothing in daphne or autobahn bounds what a socket holds for a client that reads slowly or not at
all: a consumer's send never waits, and Twisted's transport keeps every written byte in memory
until the kernel takes it (its producer pause goes to the HTTP channel that upgraded, which only
stops reading). These servers check that buffer before each message: past WS_SEND_BUFFER_MAX_BYTES
(1 MiB by default) the socket gets a 4408 close frame, queued behind what it has not read, the
application's later messages for it are dropped, and the connection is dropped if the close
handshake has not finished within SLOW_READER_CLOSE_SECONDS. The application sees a disconnect, as
for any closed socket (the playground cancels its runs unless resumed).
"""

import logging

from autobahn.twisted.websocket import WebSocketServerProtocol
from daphne.cli import CommandLineInterface as DaphneCommandLineInterface
from daphne.server import Server as DaphneServer

from config.env import env_int

logger = logging.getLogger(__name__)

CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_SLOW_READER = 4408
SEND_BUFFER_MAX_BYTES = env_int("WS_SEND_BUFFER_MAX_BYTES", 1024 * 1024)
# A client that still reads gets what it had been sent, then the close frame, within this time.
SLOW_READER_CLOSE_SECONDS = 5.0


def send_buffer_bytes(transport) -> int:
    """Bytes a Twisted TCP transport holds for its peer: written, not yet taken by the kernel."""
    # twisted.internet.abstract.FileDescriptor: dataBuffer (sent from offset on), then the chunks
    # written since its last refill. A transport without them (not a socket) counts as empty.
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:
        return 0


class Server(DaphneServer):
    def protocol_connected(self, protocol) -> None:
        super().protocol_connected(protocol)
        if isinstance(protocol, WebSocketServerProtocol):
            protocol.failByDrop = False

    async def handle_reply(self, protocol, message) -> None:
        if message.get("type") == "websocket.send" and isinstance(protocol, WebSocketServerProtocol):
            if getattr(protocol, "closed_slow", False):
                return
            if protocol.state == WebSocketServerProtocol.STATE_OPEN:
                unsent = send_buffer_bytes(protocol.transport)
                if unsent > SEND_BUFFER_MAX_BYTES:
                    self.close_slow_reader(protocol, unsent)
                    return
        too_big = message.get("type") == "websocket.close" and message.get("code") == CLOSE_MESSAGE_TOO_BIG
        if too_big and protocol in self.connections and protocol.state == WebSocketServerProtocol.STATE_OPEN:
            protocol.sendCloseFrame(code=CLOSE_MESSAGE_TOO_BIG, isReply=False)
            return
        await super().handle_reply(protocol, message)

    @staticmethod
    def close_slow_reader(protocol: WebSocketServerProtocol, unsent: int) -> None:
        protocol.closed_slow = True
        protocol.closeHandshakeTimeout = SLOW_READER_CLOSE_SECONDS  # then autobahn drops the connection
        protocol.sendCloseFrame(code=CLOSE_SLOW_READER, isReply=False)
        logger.warning("closed a WebSocket that read too slowly: %d bytes unsent, %s", unsent, protocol.client_addr)


class CommandLineInterface(DaphneCommandLineInterface):
    server_class = Server
