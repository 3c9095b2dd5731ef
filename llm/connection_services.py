"""Writes of connections, their models, their health and learners' own keys; one transaction each.

Every change the registry reads calls `registry.registry_changed()` in its transaction, so every
server process reloads it after commit (no restart). Keys are stored encrypted (`llm.secrets`)
and are never returned: callers learn only whether one is set.
"""

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from llm import registry, secrets
from llm.connections import ConnectionSpec
from llm.models import Connection, ConnectionHealth, ConnectionModel, ProviderKey
from llm.providers.base import ProviderError
from llm.providers.listing import model_names

CONNECTION_FIELDS = (
    "kind",
    "base_url",
    "connect_timeout_seconds",
    "read_timeout_seconds",
    "enabled",
    "allow_user_keys",
)
MODEL_FIELDS = (
    "display_name",
    "description",
    "context_limit",
    "max_output_tokens",
    "default_temperature",
    "default_max_tokens",
    "credits_per_1k_input",
    "credits_per_1k_output",
    "enabled",
    "position",
)


class ConnectionRefused(Exception):
    """The change cannot be made; `errors` maps field names to messages (a 400)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _checked(row: models.Model) -> None:
    try:
        row.full_clean()
    except ValidationError as exc:
        raise ConnectionRefused(exc.message_dict) from None


@transaction.atomic
def connection_create(*, name: str, kind: str, api_key: str = "", **fields: Any) -> Connection:
    """A new connection (its models added separately, or by discovery)."""
    connection = Connection(name=name, kind=kind, api_key_encrypted=secrets.encrypt(api_key), **fields)
    _checked(connection)
    connection.save()
    registry.registry_changed()
    return connection


@transaction.atomic
def connection_update(*, connection: Connection, api_key: str | None = None, **fields: Any) -> Connection:
    """Change a connection's settings; `api_key` None keeps the stored key, "" removes it."""
    for name, value in fields.items():
        if name not in CONNECTION_FIELDS:
            raise ConnectionRefused({name: ["This field cannot be changed."]})
        setattr(connection, name, value)
    if api_key is not None:
        connection.api_key_encrypted = secrets.encrypt(api_key)
    _checked(connection)
    connection.save()
    registry.registry_changed()
    return connection


@transaction.atomic
def connection_delete(*, connection: Connection) -> None:
    """Remove a connection with its models and learners' keys (an environment one of its name returns)."""
    ConnectionHealth.objects.filter(connection_name=connection.name).delete()
    connection.delete()
    registry.registry_changed()


@transaction.atomic
def model_update(*, model: ConnectionModel, **fields: Any) -> ConnectionModel:
    """Price, limit, enable or disable a model of a connection."""
    for name, value in fields.items():
        if name not in MODEL_FIELDS:
            raise ConnectionRefused({name: ["This field cannot be changed."]})
        setattr(model, name, value)
    _checked(model)
    if model.enabled and model.default_max_tokens > model.max_output_tokens:
        raise ConnectionRefused({"default_max_tokens": ["Must not exceed max_output_tokens."]})
    model.save()
    registry.registry_changed()
    return model


@dataclass(frozen=True)
class Discovery:
    added: list[str]  # model names new to the registry, added disabled (unpriced)
    known: list[str]  # names the registry already had


def connection_discover(*, connection: Connection) -> Discovery:
    """Read the server's `GET /v1/models` and add the models it does not know yet, disabled until priced.

    Raises ProviderError when the server does not answer the list (nothing is written then).
    """
    spec = registry.connection_get(connection.name)
    names = model_names(spec, timeout=max(spec.connect_timeout_seconds, settings.LLM_PROBE_TIMEOUT_SECONDS))
    return _discovered_add(connection=connection, names=names)


@transaction.atomic
def _discovered_add(*, connection: Connection, names: list[str]) -> Discovery:
    rows = set(ConnectionModel.objects.filter(connection=connection).values_list("name", flat=True))
    registered = {spec.name for spec in registry.environment_models() if spec.provider == connection.name}
    known = [name for name in names if name in rows or name in registered]
    added = [name for name in dict.fromkeys(names) if name not in rows and name not in registered]
    now = timezone.now()
    position = len(rows)
    ConnectionModel.objects.bulk_create(
        ConnectionModel(
            connection=connection, name=name, display_name=name, enabled=False, discovered_at=now, position=position + i
        )
        for i, name in enumerate(added)
    )
    if added:
        registry.registry_changed()
    return Discovery(added=added, known=known)


def connection_probe(spec: ConnectionSpec) -> ConnectionHealth:
    """Ask one connection for its models list (short timeout) and record whether it answered, and how fast."""
    started = time.monotonic()
    error = ""
    try:
        if spec.kind == "local":
            from llm.providers import get_provider

            if not get_provider("local").available():
                error = "The local model files are not installed."
        else:
            model_names(spec, timeout=settings.LLM_PROBE_TIMEOUT_SECONDS)
    except ProviderError as exc:
        error = exc.message
    except Exception as exc:  # a probe must never fail the beat task for the other connections
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = int((time.monotonic() - started) * 1000)
    return health_record(name=spec.name, up=not error, latency_ms=None if error else latency_ms, error=error)


@transaction.atomic
def health_record(*, name: str, up: bool, latency_ms: int | None, error: str = "") -> ConnectionHealth:
    """Store a connection's probe result (one row per connection, replaced)."""
    health, _ = ConnectionHealth.objects.update_or_create(
        connection_name=name,
        defaults={"up": up, "latency_ms": latency_ms, "last_error": error[:300], "checked_at": timezone.now()},
    )
    return health


def connections_probe() -> dict[str, bool]:
    """Probe every enabled, configured connection; their names with up (True) or down."""
    results = {}
    for spec in registry.connections_all().values():
        if spec.enabled and spec.configured:
            results[spec.name] = connection_probe(spec).up
    return results


@transaction.atomic
def connections_seed() -> list[str]:
    """Write the environment's connections and models as rows, where none exists yet; the names added.

    Idempotent: existing rows are left as they are (an operator's edits stand). Rows then win
    over the variables, so later changes to OPENAI_API_KEY etc. no longer apply to a seeded one.
    """
    added = []
    rows = {row.name: row for row in Connection.objects.all()}
    for name, spec in registry.environment_connections().items():
        if name in rows or not spec.configured:
            continue
        rows[name] = Connection.objects.create(
            name=name,
            kind=spec.kind,
            base_url=spec.base_url,
            api_key_encrypted=secrets.encrypt(spec.api_key),
            connect_timeout_seconds=spec.connect_timeout_seconds,
            read_timeout_seconds=spec.read_timeout_seconds,
        )
        added.append(name)
    existing = set(ConnectionModel.objects.values_list("connection__name", "name"))
    for position, spec in enumerate(registry.environment_models()):
        connection = rows.get(spec.provider)
        if connection is None or (spec.provider, spec.name) in existing:
            continue
        ConnectionModel.objects.create(
            connection=connection,
            name=spec.name,
            display_name=spec.display_name,
            description=spec.description,
            context_limit=spec.context_limit,
            max_output_tokens=spec.max_output_tokens,
            default_temperature=spec.default_params.temperature,
            default_max_tokens=spec.default_params.max_tokens,
            credits_per_1k_input=spec.credits_per_1k_input,
            credits_per_1k_output=spec.credits_per_1k_output,
            position=position,
        )
        added.append(spec.id)
    if added:
        registry.registry_changed()
    return added


@transaction.atomic
def keys_rotate() -> int:
    """Re-encrypt every stored key with the first LLM_ENCRYPTION_KEY (after adding a new one); how many."""
    count = 0
    for model in (Connection, ProviderKey):
        for row in model.objects.select_for_update().exclude(api_key_encrypted=""):
            row.api_key_encrypted = secrets.rotate(row.api_key_encrypted)
            row.save(update_fields=["api_key_encrypted"])
            count += 1
    registry.registry_changed()
    return count


# --- learners' own keys --------------------------------------------------------------------------


@transaction.atomic
def provider_key_set(*, user, connection_name: str, api_key: str) -> ProviderKey:
    """Store (or replace) the user's key for a connection that allows user keys; raises ConnectionRefused."""
    connection = Connection.objects.filter(name=connection_name, allow_user_keys=True, enabled=True).first()
    if connection is None:
        raise ConnectionRefused({"connection": ["No connection of that name takes learners' own keys."]})
    api_key = api_key.strip()
    if not api_key:
        raise ConnectionRefused({"api_key": ["This field may not be blank."]})
    key, _ = ProviderKey.objects.update_or_create(
        user_id=user.pk, connection=connection, defaults={"api_key_encrypted": secrets.encrypt(api_key)}
    )
    return key


@transaction.atomic
def provider_key_delete(*, user, key_id) -> bool:
    """Remove the user's own key; False when they have no key of that id."""
    deleted, _ = ProviderKey.objects.filter(pk=key_id, user_id=user.pk).delete()
    return bool(deleted)
