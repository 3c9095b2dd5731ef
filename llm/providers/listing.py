"""The models a connection's server offers (`GET /v1/models`), read with the SDKs' sync clients.

Used by the availability probe (a Celery task) and by "Discover models" (admin, staff REST),
both outside any event loop: a short-lived client per call, its retries off. The SDKs are
imported on first use, as for the providers (the admin imports this module).
"""

from llm.connections import ConnectionSpec
from llm.providers import errors


def _sdk_call(sdk, call):
    try:
        return call()
    except Exception as exc:
        errors.raise_for_exception(exc, sdk, answered=False)
        raise


def model_names(connection: ConnectionSpec, *, timeout: float) -> list[str]:
    """The ids of the server's models, in its order; raises ProviderError (down, refused, slow)."""
    if connection.kind == "local":
        from llm.providers import get_provider

        return list(get_provider("local").pools)
    options = {"base_url": connection.base_url or None, "max_retries": 0}
    if connection.kind == "anthropic":
        import anthropic

        with anthropic.Anthropic(
            api_key=connection.api_key, timeout=anthropic.Timeout(timeout, connect=timeout), **options
        ) as client:
            return _sdk_call(anthropic, lambda: [model.id for model in client.models.list()])
    import openai

    from llm.providers.openai import PLACEHOLDER_KEY

    with openai.OpenAI(
        api_key=connection.api_key or PLACEHOLDER_KEY, timeout=openai.Timeout(timeout, connect=timeout), **options
    ) as client:
        return _sdk_call(openai, lambda: [model.id for model in client.models.list()])
