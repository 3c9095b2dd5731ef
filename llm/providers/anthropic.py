"""Anthropic's streaming Messages API through the official SDK, one provider per connection.

Without a connection, the environment's `anthropic` one (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`).

As for OpenAI: the SDK sends the request and maps HTTP errors, its retries are off, and the SSE
events are read raw, keeping only text deltas, usage and `error` events (e.g. `overloaded_error`
after a 200, which fails the run with the deltas it already produced). The current Messages API
takes no sampling temperature, so `request.temperature` is not sent.
"""

import json
from collections.abc import AsyncIterator

import anthropic

from llm.connections import ConnectionSpec, environment_connections
from llm.providers import errors
from llm.providers.base import GenerationRequest, ProviderError, QueuedCallback, Usage
from llm.providers.clients import sdk_client
from llm.providers.retry import stream_with_retries
from llm.providers.sse import sse_data


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, connection: ConnectionSpec | None = None):
        self._connection = connection

    @property
    def connection(self) -> ConnectionSpec:
        return self._connection or environment_connections()["anthropic"]

    def available(self) -> bool:
        return self.connection.configured

    def _client(self, credential: str | None = None) -> anthropic.AsyncAnthropic:
        connection = self.connection
        return sdk_client(
            anthropic,
            anthropic.AsyncAnthropic,
            connect_timeout=connection.connect_timeout_seconds,
            read_timeout=connection.read_timeout_seconds,
            api_key=credential or connection.api_key,
            base_url=connection.base_url or None,
        )

    def stream(
        self, request: GenerationRequest, *, on_queued: QueuedCallback | None = None
    ) -> AsyncIterator[str | Usage]:
        return stream_with_retries(lambda: self._attempt(request))

    async def _attempt(self, request: GenerationRequest) -> AsyncIterator[str | Usage]:
        if not self.available() and not request.credential:
            raise ProviderError("provider_error", f"Connection {self.connection.name!r} has no API key configured.")
        optional: dict = {"system": request.system} if request.system else {}
        if request.stop:
            optional["stop_sequences"] = list(request.stop)
        input_tokens = output_tokens = 0
        finished = False
        try:
            async with self._client(request.credential).messages.with_streaming_response.create(
                model=request.model,
                max_tokens=request.max_tokens,
                messages=[{"role": "user", "content": request.prompt}],
                stream=True,
                **optional,
            ) as response:
                # Read to the end of the body even after message_stop, so the connection is reused.
                async for payload in sse_data(response.iter_bytes()):
                    event = json.loads(payload)
                    kind = event.get("type") if isinstance(event, dict) else None
                    if kind == "content_block_delta":
                        if text := (event.get("delta") or {}).get("text"):
                            yield text
                    elif kind == "message_start":
                        usage = (event.get("message") or {}).get("usage") or {}
                        input_tokens = usage.get("input_tokens") or 0
                        output_tokens = usage.get("output_tokens") or 0
                    elif kind == "message_delta":
                        # Cumulative counts; newer API versions repeat input_tokens here too.
                        usage = event.get("usage") or {}
                        input_tokens = usage.get("input_tokens") or input_tokens
                        output_tokens = usage.get("output_tokens") or output_tokens
                    elif kind == "message_stop":
                        finished = True
                    elif kind == "error":
                        error = event.get("error") or {}
                        raise errors.error_for_stream_event(error.get("type") or "", error.get("message") or "")
        except Exception as exc:
            errors.raise_for_exception(exc, anthropic, answered=finished, own_key=bool(request.credential))
        if not finished:
            raise errors.broken_stream_error("the stream ended before message_stop")
        yield Usage(input_tokens=input_tokens, output_tokens=output_tokens)
