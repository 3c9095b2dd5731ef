"""LLM providers behind one streaming interface (see `base.py`).

`connection_provider(spec)` is the provider of a connection (one per connection config, each
with its own SDK clients); `get_provider(name)` the environment's connection of that name.
"""

from functools import cache, lru_cache

from django.utils.module_loading import import_string

from llm.connections import ConnectionSpec
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


# The provider modules of each connection kind.
KIND_PROVIDERS = {"local": "local", "openai-compatible": "openai", "anthropic": "anthropic"}


@lru_cache(maxsize=256)
def connection_provider(connection: ConnectionSpec) -> Provider:
    """The provider for `connection` (its kind's API with its URL, key and timeouts); one per config.

    The environment's connections get the process-wide provider, which reads the settings at call
    time; the embedded models have one provider whatever the connection's name.
    """
    module = KIND_PROVIDERS[connection.kind]
    if connection.from_environment or module == "local":
        return get_provider(module)
    return import_string(PROVIDERS[module])(connection)


__all__ = [
    "GenerationRequest",
    "Provider",
    "ProviderError",
    "QueuedCallback",
    "UnknownProvider",
    "Usage",
    "connection_provider",
    "get_provider",
]
