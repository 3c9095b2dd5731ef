"""Chat messages → the run's prompt and system text, the two inputs every provider takes.

The system (and `developer`) messages become the run's system text. A single user message is
the prompt as written; a longer conversation becomes one transcript, `User: …` and
`Assistant: …` turns separated by blank lines, which the chat providers send as the user's
turn (`llm.providers`: a system message, then the prompt) and the local model continues.
"""

from dataclasses import dataclass
from typing import Any

from llm.openai_api.errors import OpenAIError

SYSTEM_ROLES = frozenset({"system", "developer"})
TURN_LABELS = {"user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class RenderedChat:
    prompt: str
    system: str


def _text(content: Any, param: str) -> str:
    """A message's text: a string, or a list of text parts (concatenated, as OpenAI reads them)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for index, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise OpenAIError("Only text content parts are supported.", param=f"{param}[{index}]")
            texts.append(part["text"])
        return "".join(texts)
    raise OpenAIError("Expected a string or a list of text parts.", param=param)


def messages_render(messages: Any) -> RenderedChat:
    """The prompt and system text of an OpenAI `messages` list; raises OpenAIError naming the bad message."""
    if not isinstance(messages, list) or not messages:
        raise OpenAIError("`messages` must be a non-empty array.", param="messages")
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        if not isinstance(message, dict):
            raise OpenAIError("Each message must be an object.", param=param)
        role = message.get("role")
        if role in SYSTEM_ROLES:
            system.append(_text(message.get("content"), f"{param}.content"))
        elif role in TURN_LABELS:
            if message.get("tool_calls") or message.get("function_call"):
                raise OpenAIError("Tool calls are not supported.", param=f"{param}.tool_calls")
            turns.append((role, _text(message.get("content"), f"{param}.content")))
        else:
            raise OpenAIError(
                f"Unsupported role {role!r}: use system, developer, user or assistant.", param=f"{param}.role"
            )
    if not any(role == "user" for role, _ in turns):
        raise OpenAIError("`messages` must contain a user message.", param="messages")
    if len(turns) == 1:
        return RenderedChat(prompt=turns[0][1], system="\n\n".join(system))
    transcript = "\n\n".join(f"{TURN_LABELS[role]}: {text}" for role, text in turns)
    return RenderedChat(prompt=transcript, system="\n\n".join(system))
