"""Anthropic's streaming Messages API through the official SDK (`ANTHROPIC_BASE_URL` honoured).

As for OpenAI: the SDK sends the request and maps HTTP errors, its retries are off, and the SSE
events are read raw, keeping only text deltas, usage and `error` events (e.g. `overloaded_error`
after a 200, which fails the run with the deltas it already produced). The current Messages API
takes no sampling temperature, so `request.temperature` is not sent.
"""

import json
from collections.abc import AsyncIterator

import anthropic
import httpx2
from django.conf import settings

from llm.providers import errors
from llm.providers.base import GenerationRequest, ProviderError, QueuedCallback, Usage
from llm.providers.clients import http_transport, loop_client, timeouts, transport_name
from llm.providers.retry import failed_stream, stream_with_retries
from llm.providers.sse import SSEDataReader, body_chunks

_decode = json.JSONDecoder().decode


class AnthropicProvider:
    name = "anthropic"

    def available(self) -> bool:
        return bool(settings.ANTHROPIC_API_KEY)

    def _client(self) -> anthropic.AsyncAnthropic:
        api_key = settings.ANTHROPIC_API_KEY
        base_url = settings.ANTHROPIC_BASE_URL or None
        connect, read = timeouts()
        transport = transport_name()

        def build() -> anthropic.AsyncAnthropic:
            shared = http_transport()
            return anthropic.AsyncAnthropic(
                api_key=api_key,
                base_url=base_url,
                max_retries=0,
                timeout=anthropic.Timeout(read, connect=connect),
                http_client=anthropic.DefaultAsyncHttpxClient(transport=shared) if shared else None,
            )

        return loop_client(("anthropic", api_key, base_url, connect, read, transport), build)

    def stream(
        self, request: GenerationRequest, *, on_queued: QueuedCallback | None = None
    ) -> AsyncIterator[str | Usage]:
        if not self.available():
            error = ProviderError("provider_error", "Anthropic is not configured (set ANTHROPIC_API_KEY).")
            return failed_stream(error)
        return stream_with_retries(lambda: self._attempt(request))

    async def _attempt(self, request: GenerationRequest) -> AsyncIterator[str | Usage]:
        extra: dict = {}
        if request.system:
            extra["system"] = request.system
        if request.stop:
            extra["stop_sequences"] = list(request.stop)
        input_tokens = output_tokens = 0
        finished = False
        try:
            async with self._client().messages.with_streaming_response.create(
                model=request.model,
                max_tokens=request.max_tokens,
                messages=[{"role": "user", "content": request.prompt}],
                stream=True,
                **extra,
            ) as response:
                # Read to the end of the body even after message_stop, so the connection is reused.
                sse = SSEDataReader()
                async for raw in body_chunks(response.http_response):
                    for payload in sse.feed(raw):
                        event = _decode(payload.decode())
                        if not isinstance(event, dict):
                            continue
                        kind = event.get("type")
                        if kind == "content_block_delta":
                            text = (event.get("delta") or {}).get("text")
                            if text:
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
        except anthropic.APIStatusError as exc:
            raise errors.error_for_status(
                exc.status_code,
                errors.body_detail(exc.body, exc.message),
                retry_after=errors.retry_after_seconds(exc.response.headers),
            ) from exc
        except (anthropic.APITimeoutError, httpx2.TimeoutException) as exc:
            if not finished:  # a server that keeps the body open after message_stop has still answered
                raise errors.timeout_error() from exc
        except anthropic.APIConnectionError as exc:
            raise errors.connection_error(str(exc)) from exc
        except (httpx2.HTTPError, ValueError) as exc:
            raise errors.broken_stream_error(str(exc) or type(exc).__name__) from exc
        if not finished:
            raise errors.broken_stream_error("the stream ended before message_stop")
        yield Usage(input_tokens=input_tokens, output_tokens=output_tokens)
