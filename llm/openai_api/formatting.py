"""OpenAI's response objects: the model list, `chat.completion`, and the `chat.completion.chunk` stream."""

import json
from typing import Any

from llm.registry import ModelSpec


def model_object(spec: ModelSpec) -> dict[str, Any]:
    # The registry keeps no creation dates: 0 says "unknown" in the field's type.
    return {"id": spec.id, "object": "model", "created": 0, "owned_by": spec.provider}


def completion_id(run_id: str) -> str:
    """The completion's id names its run (`chatcmpl-<run id>`), so it can be found in the run history."""
    return f"chatcmpl-{run_id}"


def usage_object(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def finish_reason(output_tokens: int, max_tokens: int) -> str:
    """`length` when the run used all its max_tokens (the providers report no reason of their own)."""
    return "length" if output_tokens >= max_tokens else "stop"


class Completion:
    """One completion's constant fields, and its bodies."""

    def __init__(self, *, run_id: str, model: str, created: int, max_tokens: int, include_usage: bool = False):
        self.id = completion_id(run_id)
        self.model = model
        self.created = created
        self.max_tokens = max_tokens
        self.include_usage = include_usage

    def body(self, *, output: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
        """The non-streaming `chat.completion`."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": output, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish_reason(output_tokens, self.max_tokens),
                }
            ],
            "usage": usage_object(input_tokens, output_tokens),
            "system_fingerprint": None,
        }

    def _chunk(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:  # every chunk carries `usage` then, null until the last
            chunk["usage"] = usage
        return sse_event(chunk)

    def _delta(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        return self._chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])

    def role_chunk(self) -> bytes:
        return self._delta({"role": "assistant", "content": ""})

    def content_chunk(self, text: str) -> bytes:
        return self._delta({"content": text})

    def end_chunks(self, *, input_tokens: int, output_tokens: int) -> bytes:
        """The chunk with the finish reason, the usage chunk when asked for, then `[DONE]`."""
        end = self._delta({}, finish_reason(output_tokens, self.max_tokens))
        if self.include_usage:
            end += self._chunk([], usage_object(input_tokens, output_tokens))
        return end + SSE_DONE


def sse_event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


SSE_DONE = b"data: [DONE]\n\n"
SSE_KEEPALIVE = b": keepalive\n\n"  # a comment line: SSE clients skip it, idle proxies keep the stream open
