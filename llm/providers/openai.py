"""OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio).

One provider per connection (`llm.connections.ConnectionSpec`: base URL, key, timeouts), each
with its own SDK client; without one, the environment's `openai` connection (`OPENAI_BASE_URL`/
`OPENAI_API_KEY`, read at call time). The official SDK does auth, the request and the HTTP error
mapping; its own retries are off (`max_retries=0`): our policy retries only before the
first delta. `with_streaming_response` hands back the response unread, and its SSE body is read
raw (see `sse.py`).
"""

import json
from collections.abc import AsyncIterator

import openai

from llm.connections import ConnectionSpec, environment_connections
from llm.providers import errors
from llm.providers.base import GenerationRequest, ProviderError, QueuedCallback, Usage
from llm.providers.clients import sdk_client
from llm.providers.retry import stream_with_retries
from llm.providers.sse import sse_data
from llm.providers.tokens import estimate_tokens

# OpenAI-compatible servers without auth (Ollama, vLLM) still need some key for the SDK.
PLACEHOLDER_KEY = "not-needed"


class OpenAIProvider:
    name = "openai"

    def __init__(self, connection: ConnectionSpec | None = None):
        self._connection = connection

    @property
    def connection(self) -> ConnectionSpec:
        return self._connection or environment_connections()["openai"]

    def available(self) -> bool:
        return self.connection.configured

    def _client(self, credential: str | None = None) -> openai.AsyncOpenAI:
        connection = self.connection
        return sdk_client(
            openai,
            openai.AsyncOpenAI,
            connect_timeout=connection.connect_timeout_seconds,
            read_timeout=connection.read_timeout_seconds,
            api_key=credential or connection.api_key or PLACEHOLDER_KEY,
            base_url=connection.base_url or None,
        )

    def stream(
        self, request: GenerationRequest, *, on_queued: QueuedCallback | None = None
    ) -> AsyncIterator[str | Usage]:
        return stream_with_retries(lambda: self._attempt(request))

    async def _attempt(self, request: GenerationRequest) -> AsyncIterator[str | Usage]:
        if not self.available() and not request.credential:
            raise ProviderError(
                "provider_error", f"Connection {self.connection.name!r} has no key or base URL configured."
            )
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages.append({"role": "user", "content": request.prompt})
        usage: Usage | None = None
        deltas = 0
        finished = False  # [DONE] or a finish_reason: anything else is a stream cut short
        try:
            async with self._client(request.credential).chat.completions.with_streaming_response.create(
                model=request.model,
                messages=messages,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **({"stop": list(request.stop)} if request.stop else {}),
            ) as response:
                # Read to the end of the body even after [DONE]: a fully read response returns its
                # connection to the pool, so the next run skips the TCP/TLS handshake. Leaving the
                # block early (a cancelled run, an error event) closes the connection instead, and
                # the upstream stops generating.
                async for payload in sse_data(response.iter_bytes()):
                    if payload == b"[DONE]":
                        finished = True
                        continue
                    chunk = json.loads(payload)
                    if not isinstance(chunk, dict):
                        continue
                    if "error" in chunk:
                        error = chunk["error"] or {}
                        raise errors.error_for_stream_event(error.get("type") or "", error.get("message") or "")
                    if choices := chunk.get("choices"):
                        if content := (choices[0].get("delta") or {}).get("content"):
                            deltas += 1
                            yield content
                        if choices[0].get("finish_reason"):
                            finished = True
                    if counts := chunk.get("usage"):
                        usage = Usage(
                            input_tokens=counts.get("prompt_tokens") or 0,
                            output_tokens=counts.get("completion_tokens") or 0,
                        )
        except Exception as exc:
            errors.raise_for_exception(exc, openai, answered=finished, own_key=bool(request.credential))
        if not finished:
            raise errors.broken_stream_error("the stream ended without [DONE]")
        # Servers that ignore stream_options (some OpenAI-compatible ones) report no usage: estimate it.
        yield usage or Usage(input_tokens=estimate_tokens(request.prompt, request.system), output_tokens=deltas)
