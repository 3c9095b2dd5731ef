"""OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio).

The official SDK does auth, config (`OPENAI_BASE_URL`/`OPENAI_API_KEY`), the request and the
HTTP error mapping; its own retries are off (`max_retries=0`, our policy retries only before the
first delta). The request goes through the client's generic `post` with a plain JSON body:
`chat.completions.create` would first run its params transform (a walk of the whole
`CompletionCreateParams` TypedDict tree) only to produce that same body; a one-token stream took
3.5 ms of CPU with it, 1.9 ms without. Tests check that the request on the wire is the one
`create` sends. The SSE body is read raw and only the needed fields are parsed: the SDK's typed
chunk models cost far more CPU than the rest of a stream.
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


def request_options() -> dict:
    """What `chat.completions.with_streaming_response.create` adds to a request.

    Bearer auth (the Authorization header), and the header that makes the SDK hand back the
    response unread (`cast_to=httpx.Response` then returns it as is). A new dict per call: the
    SDK keeps references to these in its per-request options.
    """
    return {"headers": {"X-Stainless-Raw-Response": "stream"}, "security": {"bearer_auth": True}}


def chat_body(request: GenerationRequest) -> dict:
    """The JSON body `chat.completions.create` sends for this request, keys in the SDK's order."""
    messages = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.append({"role": "user", "content": request.prompt})
    body: dict = {"model": request.model, "stream": True, "messages": messages, "max_tokens": request.max_tokens}
    if request.stop:
        body["stop"] = list(request.stop)
    body["stream_options"] = {"include_usage": True}
    body["temperature"] = request.temperature
    return body


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
        usage: Usage | None = None
        deltas = 0
        finished = False  # [DONE] or a finish_reason: anything else is a stream cut short
        try:
            response = await self._client().post(
                "/chat/completions",
                cast_to=httpx2.Response,
                body=chat_body(request),
                options=request_options(),
                stream=True,
            )
            try:
                # Read to the end of the body even after [DONE]: a fully read response returns its
                # connection to the pool, so the next run skips the TCP/TLS handshake.
                sse = SSEDataReader()
                async for raw in body_chunks(response):
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
            finally:
                # What `async with` on the SDK's streaming response did: a body left unread (a
                # cancelled run, an error event) closes its connection, upstream stops generating.
                await response.aclose()
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
