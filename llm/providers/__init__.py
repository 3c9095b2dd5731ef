"""LLM providers behind one streaming interface (see `base.py`); `get_provider(name)` picks one."""

from functools import cache

from llm.providers.base import GenerationRequest, Provider, ProviderError, QueuedCallback, Usage


class UnknownProvider(LookupError):
    pass


@cache
def get_provider(name: str) -> Provider:
    """The process-wide provider `name` ("local", "openai", "anthropic"); raises UnknownProvider."""
    if name == "local":
        from llm.providers.local import LocalProvider

        return LocalProvider()
    if name == "openai":
        from llm.providers.openai import OpenAIProvider

        return OpenAIProvider()
    if name == "anthropic":
        from llm.providers.anthropic import AnthropicProvider

        return AnthropicProvider()
    raise UnknownProvider(f"Unknown LLM provider {name!r}.")


__all__ = [
    "GenerationRequest",
    "Provider",
    "ProviderError",
    "QueuedCallback",
    "UnknownProvider",
    "Usage",
    "get_provider",
]
