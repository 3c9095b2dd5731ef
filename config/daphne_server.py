"""daphne's server and command line with this project's WebSocket closes (import after the loop policy is set).

autobahn drops the TCP connection when a client breaks the protocol (an oversize message among
those breaks), and lets applications close only with 1000 or 3000-4999. These servers send the
close frame instead of dropping, and pass an application's 1009 (message too big, what the
consumers answer to a message over their cap) on as is, so clients learn why they were closed.
"""

from autobahn.twisted.websocket import WebSocketServerProtocol
from daphne.cli import CommandLineInterface as DaphneCommandLineInterface
from daphne.server import Server as DaphneServer

CLOSE_MESSAGE_TOO_BIG = 1009


class Server(DaphneServer):
    def protocol_connected(self, protocol) -> None:
        super().protocol_connected(protocol)
        if isinstance(protocol, WebSocketServerProtocol):
            protocol.failByDrop = False

    async def handle_reply(self, protocol, message) -> None:
        too_big = message.get("type") == "websocket.close" and message.get("code") == CLOSE_MESSAGE_TOO_BIG
        if too_big and protocol in self.connections and protocol.state == WebSocketServerProtocol.STATE_OPEN:
            protocol.sendCloseFrame(code=CLOSE_MESSAGE_TOO_BIG, isReply=False)
            return
        await super().handle_reply(protocol, message)


class CommandLineInterface(DaphneCommandLineInterface):
    server_class = Server
