"""Run daphne on uvloop: `python -m config.serve [daphne's options] config.asgi:application`.

Every socket event, token and timer of a server process goes through its event loop; uvloop
runs that loop in C (libuv), which lowers the time to first token and the CPU per streamed
token (docs/benchmarks.md). Daphne builds its loop when its server module is first imported,
so the policy is set before that import.
`SERVER_EVENT_LOOP=asyncio` keeps the standard library's loop.

WebSocket messages (and frames) are capped below daphne's 1 MiB default unless the options are
given: the server refuses a larger one with 1009 before any application code sees it
(config.daphne_server).
"""

import asyncio
import os
import sys

# Above every consumer's own cap (the playground's, llm.consumers.MAX_MESSAGE_CHARS, at up to 4
# UTF-8 bytes per character), so those caps are the ones clients meet.
WS_MAX_MESSAGE_BYTES = 384 * 1024
SIZE_OPTIONS = ("--websocket-max-message-size", "--websocket-max-frame-size")


def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    if os.environ.get("SERVER_EVENT_LOOP", "uvloop") == "asyncio":
        return asyncio.DefaultEventLoopPolicy()
    import uvloop

    return uvloop.EventLoopPolicy()


def daphne_args(argv: list[str]) -> list[str]:
    """daphne's command line, with this project's WebSocket size caps where `argv` sets none."""
    given = {arg.split("=", 1)[0] for arg in argv}
    defaults = [item for option in SIZE_OPTIONS if option not in given for item in (option, str(WS_MAX_MESSAGE_BYTES))]
    return [*defaults, *argv]


def main() -> None:
    asyncio.set_event_loop_policy(event_loop_policy())
    from config.daphne_server import CommandLineInterface

    CommandLineInterface().run(daphne_args(sys.argv[1:]))


if __name__ == "__main__":
    main()
