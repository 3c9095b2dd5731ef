"""The model registry: which connections and models exist, what they cost, and their parameter limits.

Two layers. The environment's: the connections `local`, `openai` and `anthropic` (the SDKs'
variables, `llm.connections`) with the catalogue in `llm.catalogue`, or `settings.LLM_MODELS`
when set (the `LLM_MODELS_JSON` environment variable replaces the list whole). Over it, the
database's (`llm.Connection`, `llm.ConnectionModel`, edited in the admin or over staff REST): a
row wins over the environment's connection or model of the same name or id, a disabled one hides
it. Model ids are `connection:model`, e.g. `openai:gpt-4o-mini`.

Each process caches the database layer. A write calls `registry_changed()`, which bumps a version
counter in Redis after commit; every process compares its copy's version with it at most every
LLM_REGISTRY_CHECK_SECONDS and reloads when it moved (without Redis: reloads that often). Code
on an event loop never reads the database: it uses the copy a sync caller (run_prepare) loaded.

    parse_model_id("openai:gpt-4o-mini")            # ("openai", "gpt-4o-mini"); UnknownModel if malformed
    spec = model_get("local:gemma-3-270m")          # UnknownModel for ids not in the registry
    request = spec.request(prompt=..., system=..., temperature=..., max_tokens=...)  # ParamsError
    spec.max_cost_credits(request)                  # what to reserve before calling the provider
    spec.cost_credits(input_tokens=..., output_tokens=...)   # what a run actually costs
    provider_for("local:gemma-3-270m")              # the provider instance that streams it
    connection_get("openai")                        # its ConnectionSpec; UnknownModel if none

`override_models` serves extra models through in-process providers (tests script a provider's
stream and failures exactly with it).
"""

import asyncio
import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.db import DatabaseError, transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llm.catalogue import builtin_models
from llm.connections import ENVIRONMENT_KINDS, ConnectionSpec, Kind, environment_connections
from llm.providers.base import GenerationRequest, Provider
from llm.providers.tokens import estimate_tokens

logger = logging.getLogger(__name__)

MAX_STOP_SEQUENCES = 4
# Chat framing (role markers, BOS) the providers add around the prompt, in tokens.
PROMPT_OVERHEAD_TOKENS = 16
# `connection:model`: a connection name (lowercase, digits, hyphens), then the server's own model name.
MODEL_ID_PATTERN = r"^([a-z][a-z0-9-]*):([^\s:][^\s]*)$"
REGISTRY_VERSION_KEY = "llm:registry:version"
_model_id = re.compile(MODEL_ID_PATTERN)


class UnknownModel(LookupError):
    """The model id is not in the registry."""

    def __init__(self, model_id: str, known: list[str]):
        super().__init__(f"Unknown model {model_id!r}; available ids: {', '.join(known)}.")
        self.model_id = model_id


def _id_parts(model_id: str) -> tuple[str, str] | None:
    match = _model_id.fullmatch(model_id)
    return None if match is None else (match[1], match[2])


def parse_model_id(model_id: str) -> tuple[str, str]:
    """The provider and the provider's own model name of `model_id`; raises UnknownModel if malformed."""
    parts = _id_parts(model_id)
    if parts is None:
        raise UnknownModel(model_id, [spec.id for spec in models_all()])
    return parts


class ParamsError(ValueError):
    """Generation parameters a model does not accept; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


class DefaultParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.7, ge=0)
    max_tokens: int = Field(256, gt=0)


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=MODEL_ID_PATTERN)
    provider: str  # the connection's name
    kind: Kind  # the connection's kind of API
    name: str  # the provider's model name
    display_name: str
    description: str = ""
    context_limit: int = Field(gt=0)  # tokens: prompt + output
    max_output_tokens: int = Field(gt=0)  # the most output tokens a run may ask for
    temperature_max: float = Field(gt=0)
    default_params: DefaultParams = DefaultParams()
    credits_per_1k_input: float = Field(ge=0)
    credits_per_1k_output: float = Field(ge=0)

    @model_validator(mode="before")
    @classmethod
    def _fill_from_id(cls, data: Any) -> Any:
        # A malformed id is left to the field's pattern to report (the registry is not built yet).
        parts = _id_parts(data["id"]) if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        if parts is not None:
            data = {"provider": parts[0], "name": parts[1], **data}
            data.setdefault("kind", ENVIRONMENT_KINDS.get(data["provider"], "openai-compatible"))
            # Anthropic accepts temperatures up to 1, OpenAI-compatible servers and llama.cpp up to 2.
            data.setdefault("temperature_max", 1.0 if data["kind"] == "anthropic" else 2.0)
        return data

    @model_validator(mode="after")
    def _check_consistent(self) -> "ModelSpec":
        if self.id != f"{self.provider}:{self.name}":
            raise ValueError(f"id {self.id!r} must be '{self.provider}:{self.name}'")
        if self.default_params.max_tokens > self.max_output_tokens:
            raise ValueError("default max_tokens exceeds max_output_tokens")
        if self.default_params.temperature > self.temperature_max:
            raise ValueError("default temperature exceeds temperature_max")
        return self

    def request(
        self,
        *,
        prompt: str,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: tuple[str, ...] | list[str] = (),
    ) -> GenerationRequest:
        """A GenerationRequest with this model's defaults filled in; ParamsError names what is out of range."""
        errors: dict[str, list[str]] = {}
        temperature = self.default_params.temperature if temperature is None else temperature
        max_tokens = self.default_params.max_tokens if max_tokens is None else max_tokens
        if not prompt or not prompt.strip():
            errors["prompt"] = ["This field may not be blank."]
        if not 0 <= temperature <= self.temperature_max:
            errors["temperature"] = [f"Must be between 0 and {self.temperature_max:g} for this model."]
        if not 1 <= max_tokens <= self.max_output_tokens:
            errors["max_tokens"] = [f"Must be between 1 and {self.max_output_tokens} for this model."]
        if len(stop) > MAX_STOP_SEQUENCES or any(not s for s in stop):
            errors["stop"] = [f"At most {MAX_STOP_SEQUENCES} non-empty stop sequences."]
        if not errors and self.prompt_tokens_estimate(prompt, system) + max_tokens > self.context_limit:
            errors["prompt"] = [
                f"Too long for this model: prompt and max_tokens must fit in {self.context_limit} tokens."
            ]
        if errors:
            raise ParamsError(errors)
        return GenerationRequest(
            model=self.name,
            prompt=prompt,
            system=system or None,
            temperature=float(temperature),
            max_tokens=int(max_tokens),
            stop=tuple(stop),
        )

    @property
    def default_max_tokens(self) -> int:
        return self.default_params.max_tokens

    @property
    def default_temperature(self) -> float:
        return self.default_params.temperature

    def available(self) -> bool:
        """Whether this model can run now (its connection is configured / the local model is installed)."""
        return provider_for(self.id).available()

    @property
    def connection(self) -> str:
        return self.provider

    @staticmethod
    def prompt_tokens_estimate(prompt: str, system: str | None = None) -> int:
        return estimate_tokens(prompt, system) + PROMPT_OVERHEAD_TOKENS

    def cost_credits(self, *, input_tokens: int, output_tokens: int) -> int:
        """Whole credits for this usage, rounded up (any non-empty run costs at least 1)."""
        exact = (self.credits_per_1k_input * input_tokens + self.credits_per_1k_output * output_tokens) / 1000
        return math.ceil(round(exact, 6))  # rounding first keeps float noise from adding a credit

    def max_cost_credits(self, request: GenerationRequest) -> int:
        """The most `request` can cost (estimated prompt tokens + max_tokens): the amount to reserve."""
        return self.cost_credits(
            input_tokens=self.prompt_tokens_estimate(request.prompt, request.system),
            output_tokens=request.max_tokens,
        )


class ListedModel(NamedTuple):
    spec: ModelSpec
    available: bool


_overrides: dict[str, tuple[ModelSpec, Provider]] = {}


@contextmanager
def override_models(*entries: tuple[ModelSpec, Provider]) -> Iterator[None]:
    """Serve these models, each streamed by its in-process provider, for the block (not listed)."""
    saved = dict(_overrides)
    _overrides.update({spec.id: (spec, provider) for spec, provider in entries})
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


def _validated(entries: list[dict[str, Any]]) -> tuple[ModelSpec, ...]:
    try:
        specs = tuple(ModelSpec.model_validate(entry) for entry in entries)
    except ValidationError as exc:
        raise ValueError(f"Invalid LLM_MODELS setting: {exc}") from exc
    ids = [spec.id for spec in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("Invalid LLM_MODELS setting: duplicate model ids")
    return specs


@lru_cache(maxsize=4)
def _builtin(local_context: int) -> tuple[ModelSpec, ...]:
    return _validated(builtin_models(local_context=local_context))


# The configured list with its parse. Settings are replaced, never edited in place (environment,
# override_settings), so the same list object needs no new parse: every run looks its model up.
_configured: tuple[list[dict[str, Any]], tuple[ModelSpec, ...]] | None = None


def environment_models() -> tuple[ModelSpec, ...]:
    """The environment's models: the catalogue, or LLM_MODELS (LLM_MODELS_JSON) when set."""
    global _configured
    entries = settings.LLM_MODELS
    if entries is None:
        return _builtin(settings.LLM_LOCAL_CONTEXT)
    configured = _configured
    if configured is not None and configured[0] is entries:
        return configured[1]
    specs = _validated(entries)
    _configured = (entries, specs)
    return specs


# --- the database layer, cached per process ----------------------------------------------------


@dataclass(frozen=True)
class DatabaseLayer:
    connections: dict[str, ConnectionSpec]
    models: dict[str, ModelSpec | None]  # by id, in order; None: a disabled row (hides the environment's)


EMPTY_LAYER = DatabaseLayer(connections={}, models={})


@dataclass
class _Cached:
    layer: DatabaseLayer
    version: int | None  # Redis's counter when it was loaded; None: Redis did not answer
    checked: float  # time.monotonic() of the last check


_cached: _Cached | None = None
_cache_lock = threading.Lock()


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _version_read() -> int | None:
    from core.redis import redis_client, redis_url

    if not redis_url("streams"):
        return None
    try:
        return int(redis_client(role="streams").get(REGISTRY_VERSION_KEY) or 0)
    except Exception:  # Redis away: reload from the database every check instead
        logger.warning("registry version unreadable; reloading connections from the database", exc_info=True)
        return None


def _version_bump() -> None:
    from core.redis import redis_client, redis_url

    if redis_url("streams"):
        try:
            redis_client(role="streams").incr(REGISTRY_VERSION_KEY)
        except Exception:  # the other processes catch up when their copy's version check fails
            logger.warning("registry version not bumped (Redis away)", exc_info=True)


def _database_layer() -> DatabaseLayer:
    global _cached
    if not settings.LLM_CONNECTIONS_FROM_DATABASE:
        return EMPTY_LAYER
    cached = _cached
    now = time.monotonic()
    if cached is not None and (_on_event_loop() or now - cached.checked < settings.LLM_REGISTRY_CHECK_SECONDS):
        return cached.layer
    if _on_event_loop():
        return EMPTY_LAYER  # nothing loaded yet in this process: the environment's layer alone
    with _cache_lock:
        version = _version_read()  # before the load: a change committed meanwhile bumps it past this
        if cached is not None and version is not None and version == cached.version:
            cached.checked = now
            return cached.layer
        from llm.selectors import registry_rows_load

        try:
            layer = _layer_of(*registry_rows_load())
        except DatabaseError:
            logger.warning("LLM connections unreadable; serving the last known registry", exc_info=True)
            return cached.layer if cached is not None else EMPTY_LAYER
        _cached = _Cached(layer=layer, version=version, checked=now)
        return layer


def _layer_of(connections: dict[str, ConnectionSpec], entries: dict[str, dict[str, Any] | None]) -> DatabaseLayer:
    models: dict[str, ModelSpec | None] = {}
    for model_id, entry in entries.items():
        try:
            models[model_id] = None if entry is None else ModelSpec.model_validate(entry)
        except ValidationError:
            # The admin validates each field; a row inconsistent as a whole is left out, not fatal.
            logger.warning("model %s is inconsistent and left out of the registry", model_id)
            models[model_id] = None
    return DatabaseLayer(connections=connections, models=models)


def registry_reset() -> None:
    """Drop this process's copy of the database layer: the next lookup reloads it."""
    global _cached
    _cached = None


def registry_changed() -> None:
    """Call in the transaction that changed connections or models: every process reloads after commit."""
    registry_reset()  # this process at once (it sees its own transaction)

    def announce() -> None:
        registry_reset()
        _version_bump()

    transaction.on_commit(announce)


# --- the merged registry -------------------------------------------------------------------------


class _Merged(NamedTuple):
    connections: dict[str, ConnectionSpec]
    models: tuple[ModelSpec, ...]


@lru_cache(maxsize=8)
def _merge(environment: tuple[ConnectionSpec, ...], models: tuple[ModelSpec, ...], layer: "_LayerKey") -> _Merged:
    connections = {spec.name: spec for spec in environment} | layer.connections
    merged: list[ModelSpec] = []
    for spec in models:
        override = layer.models.get(spec.id, spec)
        if override is not None:
            merged.append(override)
    environment_ids = {spec.id for spec in models}
    merged += [spec for model_id, spec in layer.models.items() if spec is not None and model_id not in environment_ids]
    usable = []
    for spec in merged:
        connection = connections.get(spec.provider)
        if connection is None or not connection.enabled:
            continue
        usable.append(spec if spec.kind == connection.kind else spec.model_copy(update={"kind": connection.kind}))
    return _Merged(connections=connections, models=tuple(usable))


def _registry() -> _Merged:
    layer = _database_layer()
    environment = tuple(environment_connections().values())
    return _merge(environment, environment_models(), _LayerKey(layer))


class _LayerKey:
    """Hashes and compares a DatabaseLayer (dicts: unhashable) by identity, for the merge cache."""

    __slots__ = ("layer",)

    def __init__(self, layer: DatabaseLayer):
        self.layer = layer

    def __hash__(self) -> int:
        return id(self.layer)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LayerKey) and other.layer is self.layer

    @property
    def connections(self) -> dict[str, ConnectionSpec]:
        return self.layer.connections

    @property
    def models(self) -> dict[str, ModelSpec | None]:
        return self.layer.models


def models_all() -> tuple[ModelSpec, ...]:
    """Every enabled model of an enabled connection: the environment's in order, then the database's."""
    return _registry().models


def connections_all() -> dict[str, ConnectionSpec]:
    """Every connection by name, enabled or not (the environment's, replaced by rows of the same name)."""
    return _registry().connections


def connection_get(name: str) -> ConnectionSpec:
    """The connection `name`; raises UnknownModel (naming it) when there is none."""
    connection = connections_all().get(name)
    if connection is None:
        raise UnknownModel(f"{name}:", [spec.id for spec in models_all()])
    return connection


def model_get(model_id: str) -> ModelSpec:
    """The registered model `model_id` (`connection:model`); raises UnknownModel."""
    if model_id in _overrides:
        return _overrides[model_id][0]
    for spec in models_all():
        if spec.id == model_id:
            return spec
    raise UnknownModel(model_id, [spec.id for spec in models_all()])


def models_list() -> list[ListedModel]:
    """Every model with whether its connection is configured (key, URL, local model installed)."""
    return [ListedModel(spec, spec.available()) for spec in models_all()]


def provider_for(model_id: str) -> Provider:
    """The provider that streams `model_id`, for its connection; raises UnknownModel."""
    from llm.providers import connection_provider

    if model_id in _overrides:
        return _overrides[model_id][1]
    spec = model_get(model_id)
    return connection_provider(connection_get(spec.provider))


def providers_preload() -> list[str]:
    """Import the provider (and its SDK) of every registered model now; returns their kinds' modules.

    A provider is otherwise imported by the first run that needs it, on the event loop, and an
    SDK import stalls every socket of the process while it lasts. Server processes call this at
    startup (LLM_PRELOAD_PROVIDERS).
    """
    from llm.providers import KIND_PROVIDERS, get_provider

    names = sorted({KIND_PROVIDERS[spec.kind] for spec in models_all()})
    for name in names:
        get_provider(name)
    return names
