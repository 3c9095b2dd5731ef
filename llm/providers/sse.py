"""Minimal server-sent-events reading: the `data:` payloads of a byte stream, nothing else.

The SDKs build a typed model per chunk (hundreds of µs of CPU each); the providers read the raw
response through the SDKs' streaming-response interface and pick the few fields they need.
"""

from collections.abc import AsyncIterator


async def sse_data(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Yield the payload of every `data:` line (event names, comments and ids are not needed)."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        if b"\n" not in chunk:
            continue
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip()
    if buffer.startswith(b"data:"):
        yield buffer[5:].strip()
