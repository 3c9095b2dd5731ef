"""The body of `POST /v1/chat/completions`, validated into a `ChatRequest` (OpenAI's names and limits).

Parameters the runs have no use for (`top_p`, `presence_penalty`, `user`, `seed`, …) are
accepted and ignored, as most OpenAI-compatible servers do; `n` must be 1.
"""

from dataclasses import dataclass
from typing import Any

from llm.openai_api.errors import OpenAIError
from llm.openai_api.messages import RenderedChat, messages_render

MAX_STOP_SEQUENCES = 4


@dataclass(frozen=True)
class ChatRequest:
    model: str
    chat: RenderedChat
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    max_tokens_param: str = "max_tokens"  # the name the client used, for error messages
    temperature: float | None = None
    stop: tuple[str, ...] = ()

    def run_params(self) -> dict[str, Any]:
        """The run's `params` (llm.services.run_prepare)."""
        params: dict[str, Any] = {"system": self.chat.system}
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.stop:
            params["stop"] = self.stop
        return params


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _max_tokens(body: dict[str, Any]) -> tuple[int | None, str]:
    # `max_completion_tokens` is the newer name; a client sending both means it.
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not _is_int(value) or value < 1:
            raise OpenAIError(f"`{name}` must be a positive integer.", param=name)
        return value, name
    return None, "max_tokens"


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise OpenAIError("`stop` must be a non-empty string or an array of them.", param="stop")
    if len(stops) > MAX_STOP_SEQUENCES:
        raise OpenAIError(f"`stop` takes at most {MAX_STOP_SEQUENCES} sequences.", param="stop")
    return tuple(stops)


def chat_request_parse(body: Any) -> ChatRequest:
    """Validate a chat completion request body; raises OpenAIError naming the parameter at fault."""
    if not isinstance(body, dict):
        raise OpenAIError("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise OpenAIError("`model` is required.", param="model")
    chat = messages_render(body.get("messages"))
    stream = body.get("stream")
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise OpenAIError("`stream` must be a boolean.", param="stream")
    options = body.get("stream_options")
    include_usage = False
    if options is not None:
        if not stream:
            raise OpenAIError("`stream_options` is only allowed when `stream` is true.", param="stream_options")
        if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
            raise OpenAIError("`stream_options.include_usage` must be a boolean.", param="stream_options")
        include_usage = options.get("include_usage", False)
    n = body.get("n")
    if n is not None and (not _is_int(n) or n != 1):
        raise OpenAIError("Only `n: 1` is supported.", param="n")
    temperature = body.get("temperature")
    if temperature is not None and (not _is_number(temperature) or not 0 <= temperature <= 2):
        raise OpenAIError("`temperature` must be a number between 0 and 2.", param="temperature")
    max_tokens, max_tokens_param = _max_tokens(body)
    return ChatRequest(
        model=model,
        chat=chat,
        stream=stream,
        include_usage=include_usage,
        max_tokens=max_tokens,
        max_tokens_param=max_tokens_param,
        temperature=None if temperature is None else float(temperature),
        stop=_stop(body.get("stop")),
    )
