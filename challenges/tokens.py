"""Prompt tokens for scores: one tokenizer for every model, so scores compare across models.

The Gemma 3 vocabulary (from the embedded model's GGUF, loaded vocabulary-only, without weights,
once per process) counts the learner's template as written, placeholders included.
"""

import atexit
import threading
from typing import Any

_lock = threading.Lock()
_vocab: Any = None


def _tokenizer() -> Any:
    global _vocab
    if _vocab is None:
        # Imported on first use, like the providers (llm.registry.providers_preload says why).
        from llama_cpp import Llama

        from llm.providers.local.models import gemma_path

        _vocab = Llama(model_path=str(gemma_path()), vocab_only=True, n_ctx=8, verbose=False)  # no generation here
        atexit.register(_close)
    return _vocab


def _close() -> None:
    """Free the vocabulary before interpreter shutdown (llama.cpp's own finaliser fails during it)."""
    global _vocab
    if _vocab is not None:
        _vocab.close()
        _vocab = None


def count_tokens(text: str) -> int:
    """Tokens of `text` in the Gemma 3 vocabulary (no BOS; special-token text counts as plain text)."""
    if not text:
        return 0
    with _lock:  # one llama.cpp vocabulary object, shared by the threads of the process
        return len(_tokenizer().tokenize(text.encode(), add_bos=False, special=False))


def prompt_tokens(prompt: str, system: str = "") -> int:
    """The tokens a learner wrote: their prompt template and their own system prompt."""
    return count_tokens(prompt) + count_tokens(system)
