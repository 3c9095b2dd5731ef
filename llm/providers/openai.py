"""OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio).

The official SDK does auth, config (`OPENAI_BASE_URL`/`OPENAI_API_KEY`), the request and the
HTTP error mapping; its own retries are off (`max_retries=0`, our policy retries only before the
first delta). The SSE body is read raw through `with_streaming_response` and only the needed
fields are parsed: the SDK's typed chunk models cost far more CPU than the rest of a stream.
"""

import json
from collections.abc import AsyncIterator

import httpx2
import openai
from django.conf import settings

from llm.providers import errors
from llm.providers.base import GenerationRequest, ProviderError, QueuedCallback, Usage
from llm.providers.clients import http_transport, loop_client, timeouts, transport_name
from llm.providers.retry import failed_stream, stream_with_retries
from llm.providers.sse import SSEDataReader, body_chunks
from llm.providers.tokens import estimate_tokens

_decode = json.JSONDecoder().decode  # json.loads minus its per-call type checks and encoding sniffing

# OpenAI-compatible servers without auth (Ollama, vLLM) still need some key for the SDK.
PLACEHOLDER_KEY = "not-needed"


class OpenAIProvider:
    name = "openai"

    def available(self) -> bool:
        return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)

    def _client(self) -> openai.AsyncOpenAI:
        api_key = settings.OPENAI_API_KEY or PLACEHOLDER_KEY
        base_url = settings.OPENAI_BASE_URL or None
        connect, read = timeouts()
        transport = transport_name()

        def build() -> openai.AsyncOpenAI:
            shared = http_transport()
            return openai.AsyncOpenAI(
                api_key=api_key,
                base_url=base_url,
                max_retries=0,
                timeout=openai.Timeout(read, connect=connect),
                http_client=openai.DefaultAsyncHttpxClient(transport=shared) if shared else None,
            )

        return loop_client(("openai", api_key, base_url, connect, read, transport), build)

    def stream(
        self, request: GenerationRequest, *, on_queued: QueuedCallback | None = None
    ) -> AsyncIterator[str | Usage]:
        if not self.available():
            error = ProviderError("provider_error", "OpenAI is not configured (set OPENAI_API_KEY or OPENAI_BASE_URL).")
            return failed_stream(error)
        return stream_with_retries(lambda: self._attempt(request))

    async def _attempt(self, request: GenerationRequest) -> AsyncIterator[str | Usage]:
        messages = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        extra = {"stop": list(request.stop)} if request.stop else {}
        usage: Usage | None = None
        deltas = 0
        finished = False  # [DONE] or a finish_reason: anything else is a stream cut short
        try:
            async with self._client().chat.completions.with_streaming_response.create(
                model=request.model,
                messages=messages,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **extra,
            ) as response:
                # Read to the end of the body even after [DONE]: a fully read response returns its
                # connection to the pool, so the next run skips the TCP/TLS handshake.
                sse = SSEDataReader()
                async for raw in body_chunks(response.http_response):
                    for payload in sse.feed(raw):
                        if payload == b"[DONE]":
                            finished = True
                            continue
                        chunk = _decode(payload.decode())
                        if not isinstance(chunk, dict):
                            continue
                        if "error" in chunk:
                            error = chunk["error"] or {}
                            raise errors.error_for_stream_event(error.get("type") or "", error.get("message") or "")
                        choices = chunk.get("choices")
                        if choices:
                            choice = choices[0]
                            content = (choice.get("delta") or {}).get("content")
                            if content:
                                deltas += 1
                                yield content
                            if choice.get("finish_reason"):
                                finished = True
                        if chunk.get("usage"):
                            usage = Usage(
                                input_tokens=chunk["usage"].get("prompt_tokens") or 0,
                                output_tokens=chunk["usage"].get("completion_tokens") or 0,
                            )
        except openai.APIStatusError as exc:
            raise errors.error_for_status(
                exc.status_code,
                errors.body_detail(exc.body, exc.message),
                retry_after=errors.retry_after_seconds(exc.response.headers),
            ) from exc
        except (openai.APITimeoutError, httpx2.TimeoutException) as exc:
            if not finished:  # a server that keeps the body open after [DONE] has still answered
                raise errors.timeout_error() from exc
        except openai.APIConnectionError as exc:
            raise errors.connection_error(str(exc)) from exc
        except (httpx2.HTTPError, ValueError) as exc:
            raise errors.broken_stream_error(str(exc) or type(exc).__name__) from exc
        if not finished:
            raise errors.broken_stream_error("the stream ended without [DONE]")
        # Servers that ignore stream_options (some OpenAI-compatible ones) report no usage: estimate it.
        yield usage or Usage(input_tokens=estimate_tokens(request.prompt, request.system), output_tokens=deltas)
