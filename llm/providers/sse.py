"""Minimal server-sent-events reading: the `data:` payloads of a byte stream, nothing else.

The SDKs build a typed model per chunk (hundreds of µs of CPU each); the providers read the raw
response through the SDKs' streaming-response interface and pick the few fields they need. This
is a plain object fed from the read loop (no async generator hop per event: that is per-token CPU).
"""

import asyncio
import time
from collections.abc import AsyncIterator


class SSEDataReader:
    """Feed raw bytes, get back the payloads of the complete `data:` lines (events, ids, comments dropped)."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        if b"\n" not in chunk:
            self._buffer += chunk
            return []
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        return [line[5:].strip() for line in lines if line.startswith(b"data:")]

    def close(self) -> list[bytes]:
        """A last line the stream ended without a newline."""
        tail, self._buffer = self._buffer, b""
        return [tail[5:].strip()] if tail.startswith(b"data:") else []


def body_chunks(response) -> AsyncIterator[bytes]:
    """The body of an httpx response as it arrives, through the fewest layers that decode it.

    Without a content encoding the raw body is the body: reading it raw skips httpx's decoder and
    re-chunking generators, a few async hops per network read (that is, per streamed token).
    """
    if response.headers.get("content-encoding", "identity") == "identity":
        return response.aiter_raw()
    return response.aiter_bytes()


class ReadPacer:
    """Spaces the reads of a flowing stream at least `interval` apart (the token flush interval).

    The HTTP stack costs about the same per network read whatever it carries, and a stream paced
    by its server brings one token per read. Waiting out the interval before the next read lets
    the tokens that arrive meanwhile come in one read; they would share a frame anyway. Callers
    pace only after the first delta (time to first token is untouched) and stop at the end.
    """

    __slots__ = ("_last", "interval")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: float | None = None

    async def wait(self) -> None:
        now = time.monotonic()
        if self._last is not None and (delay := self._last + self.interval - now) > 0:
            await asyncio.sleep(delay)
            now += delay
        self._last = now
