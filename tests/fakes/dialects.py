"""The two wire formats the fake server speaks: OpenAI chat-completions SSE and Anthropic Messages SSE."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.fakes.server import DropConnection, Script, StreamWriter


def _words(text: Any) -> int:
    if isinstance(text, str):
        return len(text.split())
    if isinstance(text, list):  # content blocks
        return sum(_words(block.get("text", "")) for block in text if isinstance(block, dict))
    return 0


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


class OpenAIDialect:
    """`POST /v1/chat/completions`; `data: {chunk}` lines, `data: [DONE]`, a usage chunk on request."""

    name = "openai"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/chat/completions")

    def lists_models(self, method: str, path: str) -> bool:
        return method == "GET" and path.endswith("/v1/models")

    def models_body(self, names: list[str]) -> dict[str, Any]:
        """`GET /v1/models` as OpenAI (and Ollama, vLLM, llama.cpp) answer it."""
        data = [{"id": name, "object": "model", "created": 1700000000, "owned_by": "fake"} for name in names]
        return {"object": "list", "data": data}

    def credential(self, headers: dict[str, str]) -> str:
        return headers.get("authorization", "").removeprefix("Bearer ")

    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {
            400: ("invalid_request_error", "Invalid request."),
            401: ("invalid_request_error", "Incorrect API key provided."),
            404: ("invalid_request_error", "The model does not exist."),
            429: ("rate_limit_error", "Rate limit reached for requests."),
        }
        kind, message = kinds.get(status, ("server_error", "The server had an error while processing your request."))
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def input_tokens(self, body: Any) -> int:
        messages = body.get("messages", []) if isinstance(body, dict) else []
        return sum(_words(m.get("content")) for m in messages if isinstance(m, dict))

    def _chunk(self, model: str, delta: dict[str, Any], finish: str | None, with_usage: bool) -> str:
        chunk: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if with_usage:
            chunk["usage"] = None
        return f"data: {_dumps(chunk)}\n\n"

    async def play(self, stream: StreamWriter, body: Any, script: Script, input_tokens: int) -> None:
        model = body.get("model", "fake")
        with_usage = bool((body.get("stream_options") or {}).get("include_usage")) and script.usage
        await stream.send(self._chunk(model, {"role": "assistant", "content": "", "refusal": None}, None, with_usage))
        for index, token in enumerate(script.tokens):
            if index == script.error_after:
                error = self.error_body(500)
                await stream.send(f"data: {_dumps(error)}\n\n")
                return
            if index == script.stall_after:
                await stream.wait_forever()
            if index == script.drop_after:
                raise DropConnection
            await stream.pause(script.delay)
            await stream.send(self._chunk(model, {"content": token}, None, with_usage), token=True)
        await stream.send(self._chunk(model, {}, "stop", with_usage))
        if with_usage:
            usage = {
                "prompt_tokens": input_tokens,
                "completion_tokens": len(script.tokens),
                "total_tokens": input_tokens + len(script.tokens),
            }
            chunk = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": usage,
            }
            await stream.send(f"data: {_dumps(chunk)}\n\n")
        await stream.send("data: [DONE]\n\n")

    def complete_body(self, body: Any, script: Script, input_tokens: int) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake") if isinstance(body, dict) else "fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(script.tokens)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": len(script.tokens),
                "total_tokens": input_tokens + len(script.tokens),
            },
        }


class AnthropicDialect:
    """`POST /v1/messages`; message_start … content_block_delta … message_delta (usage) … message_stop."""

    name = "anthropic"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/v1/messages")

    def lists_models(self, method: str, path: str) -> bool:
        return method == "GET" and path.endswith("/v1/models")

    def models_body(self, names: list[str]) -> dict[str, Any]:
        """`GET /v1/models` as Anthropic answers it (one page)."""
        data = [
            {"id": name, "type": "model", "display_name": name, "created_at": "2025-01-01T00:00:00Z"} for name in names
        ]
        return {
            "data": data,
            "has_more": False,
            "first_id": names[0] if names else None,
            "last_id": names[-1] if names else None,
        }

    def credential(self, headers: dict[str, str]) -> str:
        # `x-api-key`, or (as the SDK sends it now) a bearer token.
        return headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")

    def error_body(self, status: int) -> dict[str, Any]:
        kinds = {
            400: ("invalid_request_error", "Invalid request."),
            401: ("authentication_error", "invalid x-api-key"),
            404: ("not_found_error", "model not found"),
            429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
            529: ("overloaded_error", "Overloaded"),
        }
        kind, message = kinds.get(status, ("api_error", "Internal server error"))
        return {"type": "error", "error": {"type": kind, "message": message}}

    def input_tokens(self, body: Any) -> int:
        if not isinstance(body, dict):
            return 0
        messages = body.get("messages", [])
        return _words(body.get("system", "")) + sum(_words(m.get("content")) for m in messages if isinstance(m, dict))

    @staticmethod
    def _event(name: str, payload: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {_dumps(payload)}\n\n"

    async def play(self, stream: StreamWriter, body: Any, script: Script, input_tokens: int) -> None:
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": body.get("model", "fake"),
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        }
        await stream.send(self._event("message_start", {"type": "message_start", "message": message}))
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        await stream.send(self._event("content_block_start", block))
        if script.ping:
            await stream.send(self._event("ping", {"type": "ping"}))
        for index, token in enumerate(script.tokens):
            if index == script.error_after:
                await stream.send(self._event("error", self.error_body(529)))
                return
            if index == script.stall_after:
                await stream.wait_forever()
            if index == script.drop_after:
                raise DropConnection
            await stream.pause(script.delay)
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": token}}
            await stream.send(self._event("content_block_delta", delta), token=True)
        await stream.send(self._event("content_block_stop", {"type": "content_block_stop", "index": 0}))
        message_delta = {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": len(script.tokens)},
        }
        await stream.send(self._event("message_delta", message_delta))
        await stream.send(self._event("message_stop", {"type": "message_stop"}))

    def complete_body(self, body: Any, script: Script, input_tokens: int) -> dict[str, Any]:
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "".join(script.tokens)}],
            "model": body.get("model", "fake") if isinstance(body, dict) else "fake",
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": len(script.tokens)},
        }
