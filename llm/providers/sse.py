"""Server-sent events: the `data:` payloads of a byte stream, nothing else.

The providers read the raw body through the SDKs' streaming-response API and pick the few fields
they need from each payload, instead of the SDKs' typed chunk models, which cost more CPU per
token than the rest of a run's streaming.
"""

from collections.abc import AsyncIterator


async def sse_data(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The payloads of the complete `data:` lines in `chunks` (event names, ids and comments dropped)."""
    buffer = b""
    async for chunk in chunks:
        *lines, buffer = (buffer + chunk).split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip()
