"""Run daphne on uvloop: `python -m config.serve [daphne's options] config.asgi:application`.

Every socket event, token and timer of a server process goes through its event loop; uvloop
runs that loop in C (libuv), which lowers the time to first token and the CPU per streamed
token (docs/benchmarks.md). Daphne builds its loop when its server module is first imported,
so the policy is set before that import.
`SERVER_EVENT_LOOP=asyncio` keeps the standard library's loop.
"""

import asyncio
import os


def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    if os.environ.get("SERVER_EVENT_LOOP", "uvloop") == "asyncio":
        return asyncio.DefaultEventLoopPolicy()
    import uvloop

    return uvloop.EventLoopPolicy()


def main() -> None:
    asyncio.set_event_loop_policy(event_loop_policy())
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
