"""LLM providers behind one streaming interface (see `base.py`); `get_provider(name)` picks one."""

from functools import cache

from django.utils.module_loading import import_string

from llm.providers.base import GenerationRequest, Provider, ProviderError, QueuedCallback, Usage

# Imported on first use: each module imports its SDK (or llama.cpp), which takes a while.
PROVIDERS = {
    "local": "llm.providers.local.LocalProvider",
    "openai": "llm.providers.openai.OpenAIProvider",
    "anthropic": "llm.providers.anthropic.AnthropicProvider",
}


class UnknownProvider(LookupError):
    pass


@cache
def get_provider(name: str) -> Provider:
    """The process-wide provider `name` ("local", "openai", "anthropic"); raises UnknownProvider."""
    if name not in PROVIDERS:
        raise UnknownProvider(f"Unknown LLM provider {name!r}.")
    return import_string(PROVIDERS[name])()


__all__ = [
    "GenerationRequest",
    "Provider",
    "ProviderError",
    "QueuedCallback",
    "UnknownProvider",
    "Usage",
    "get_provider",
]
