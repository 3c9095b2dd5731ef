"""Run a fake LLM server as its own process: `python -m tests.fakes openai|anthropic [--port N]`.

Prints `listening <port>` once ready; steer it with `POST /_fake/script` (JSON knobs of `Script`),
`POST /_fake/enqueue` (a list of them), `POST /_fake/reset`, and read `GET /_fake/requests`.
"""

import argparse
import asyncio
import contextlib

from tests.fakes import fake_anthropic_server, fake_openai_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dialect", choices=["openai", "anthropic"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = (fake_openai_server if args.dialect == "openai" else fake_anthropic_server)(port=args.port)
    server.host = args.host

    async def serve() -> None:
        await server.listen()
        print(f"listening {server.port}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
