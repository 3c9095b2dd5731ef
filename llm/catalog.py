"""What runs need from the model registry and from prompts, behind one small facade.

Runs see a model as a `ModelInfo` (limits and prices) plus a provider to stream from; template
runs render through prompts' selectors and report use through prompts' services.
`override_models` lets tests put an in-process provider behind a model id.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from llm.providers.base import Provider


@dataclass(frozen=True)
class ModelInfo:
    id: str  # "provider:model"
    provider: str
    name: str  # the provider's own model name
    available: bool
    credits_per_1k_input: float
    credits_per_1k_output: float
    max_output_tokens: int
    default_max_tokens: int
    default_temperature: float


@dataclass(frozen=True)
class RenderedTemplate:
    prompt: str
    version: int


_overrides: dict[str, tuple[ModelInfo, Provider]] = {}


@contextmanager
def override_models(*entries: tuple[ModelInfo, Provider]) -> Iterator[None]:
    """Serve these models (with their providers) instead of the registry's, for the block."""
    saved = dict(_overrides)
    _overrides.update({info.id: (info, provider) for info, provider in entries})
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


def _registry_spec(model_id: str):
    from llm import registry

    try:
        return registry.model_get(model_id)
    except (KeyError, LookupError, ValueError):
        return None


def model_info(model_id: str) -> ModelInfo | None:
    """Limits and prices of a model id, or None if it is unknown."""
    if model_id in _overrides:
        return _overrides[model_id][0]
    spec = _registry_spec(model_id)
    if spec is None:
        return None
    return ModelInfo(
        id=spec.id,
        provider=spec.provider,
        name=spec.name,
        available=spec.available(),
        credits_per_1k_input=spec.credits_per_1k_input,
        credits_per_1k_output=spec.credits_per_1k_output,
        max_output_tokens=spec.max_output_tokens,
        default_max_tokens=spec.default_max_tokens,
        default_temperature=spec.default_temperature,
    )


def params_errors(
    *, model_id: str, prompt: str, system: str, temperature: float, max_tokens: int
) -> dict[str, list[str]]:
    """The registry's own checks of a request (temperature range, context window), by field."""
    if model_id in _overrides:
        return {}
    from llm import registry

    try:
        registry.model_get(model_id).request(
            prompt=prompt, system=system or None, temperature=temperature, max_tokens=max_tokens
        )
    except registry.ParamsError as exc:
        return exc.errors
    return {}


def provider_for(model_id: str) -> Provider:
    """The provider instance that streams this model."""
    if model_id in _overrides:
        return _overrides[model_id][1]
    from llm import registry

    return registry.provider_for(model_id)


def template_render(*, user, template_id: str, variables: dict) -> RenderedTemplate:
    """Render the current version of a template the user may see; raises services.RunRefused."""
    from django.http import Http404

    from llm.services import RunRefused
    from prompts import selectors as prompt_selectors
    from prompts.variables import RenderError, TemplateSyntaxError

    try:
        template = prompt_selectors.template_get_visible(template_id=template_id, user=user)
        prompt = prompt_selectors.template_render(template=template, values=variables)
    except Http404:
        raise RunRefused("invalid_request", "No such template.", field="template") from None
    except RenderError as exc:
        raise RunRefused("invalid_request", str(exc), field="variables", errors=exc.errors) from None
    except TemplateSyntaxError as exc:
        raise RunRefused("invalid_request", str(exc), field="template") from None
    return RenderedTemplate(prompt=prompt, version=template.version)


def template_record_use(*, run) -> None:
    """Tell prompts a template was run (its usage counter)."""
    from prompts import services as prompt_services

    prompt_services.template_record_use(template_id=run.template_id, user_id=run.user_id)
