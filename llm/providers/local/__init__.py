"""The embedded models on llama-cpp-python, offline and without a key.

`models` says which GGUF each model runs and how llama.cpp is called for it, `pool` keeps each
model's slots and loaded instances, `provider` streams a generation from a worker thread.
"""

from llm.providers.local.provider import LocalProvider

__all__ = ["LocalProvider"]
