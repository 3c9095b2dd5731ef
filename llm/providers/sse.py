"""Minimal server-sent-events reading: the `data:` payloads of a byte stream, nothing else.

The SDKs build a typed model per chunk (hundreds of µs of CPU each); the providers read the raw
response through the SDKs' streaming-response interface and pick the few fields they need. This
is a plain object fed from the read loop (no async generator hop per event: that is per-token CPU).
"""

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
