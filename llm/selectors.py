"""Reads of runs (a user's history and single runs: another user's run is simply not found) and of
connections (the registry's database layer, health, learners' own keys).

Sealed runs (hidden challenge cases) are never the user's to read: not listed, not found.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import QuerySet, Sum

from llm import secrets
from llm.connections import ConnectionSpec
from llm.models import Connection, ConnectionHealth, ConnectionModel, LLMRun, ProviderKey, RunStatus

logger = logging.getLogger(__name__)


def run_list_for(*, user) -> QuerySet[LLMRun]:
    """The user's runs, newest first."""
    return LLMRun.objects.filter(user_id=user.pk, sealed=False).order_by("-created_at")


def run_get_for(*, run_id, user) -> LLMRun | None:
    """The user's run with that id, or None (also for other users' runs)."""
    return LLMRun.objects.filter(pk=run_id, user_id=user.pk, sealed=False).first()


def run_is_running_for(*, run_id, user) -> bool:
    return LLMRun.objects.filter(pk=run_id, user_id=user.pk, sealed=False, status=RunStatus.RUNNING).exists()


def runs_cost(*, run_ids) -> int:
    """The credits these runs cost together (a caller that prepaid them settles with this)."""
    return LLMRun.objects.filter(pk__in=list(run_ids)).aggregate(total=Sum("cost_credits"))["total"] or 0


# --- connections, their models and health --------------------------------------------------------


def _connection_spec(row: Connection) -> ConnectionSpec:
    try:
        api_key = secrets.decrypt(row.api_key_encrypted)
    except secrets.SecretUnreadable:
        logger.error("the API key of connection %s cannot be decrypted (LLM_ENCRYPTION_KEY changed?)", row.name)
        api_key = ""
    return ConnectionSpec(
        name=row.name,
        kind=row.kind,
        base_url=row.base_url,
        api_key=api_key,
        connect_timeout_seconds=row.connect_timeout_seconds,
        read_timeout_seconds=row.read_timeout_seconds,
        enabled=row.enabled,
        allow_user_keys=row.allow_user_keys,
    )


def _model_entry(row: ConnectionModel, connection: Connection) -> dict[str, Any]:
    return {
        "id": f"{connection.name}:{row.name}",
        "kind": connection.kind,
        "display_name": row.display_name or row.name,
        "description": row.description,
        "context_limit": row.context_limit,
        "max_output_tokens": row.max_output_tokens,
        "default_params": {"temperature": row.default_temperature, "max_tokens": row.default_max_tokens},
        "credits_per_1k_input": float(row.credits_per_1k_input),
        "credits_per_1k_output": float(row.credits_per_1k_output),
    }


def registry_rows_load() -> tuple[dict[str, ConnectionSpec], dict[str, dict[str, Any] | None]]:
    """The database's connections and model entries (None: disabled), as the registry merges them; two queries."""
    connections = list(Connection.objects.all())
    by_id = {row.pk: row for row in connections}
    models: dict[str, dict[str, Any] | None] = {}
    for row in ConnectionModel.objects.order_by("connection__name", "position", "name"):
        connection = by_id[row.connection_id]
        models[f"{connection.name}:{row.name}"] = _model_entry(row, connection) if row.enabled else None
    return {row.name: _connection_spec(row) for row in connections}, models


def connection_health_all() -> dict[str, ConnectionHealth]:
    """The last probe of each connection, by name (none without the database layer)."""
    if not settings.LLM_CONNECTIONS_FROM_DATABASE:
        return {}
    try:
        return {row.connection_name: row for row in ConnectionHealth.objects.all()}
    except DatabaseError:
        logger.warning("connection health unreadable", exc_info=True)
        return {}


def connection_is_down(*, name: str) -> ConnectionHealth | None:
    """The failed last probe of the connection `name`, or None when it is up or never probed."""
    if not settings.LLM_CONNECTIONS_FROM_DATABASE:
        return None
    return ConnectionHealth.objects.filter(connection_name=name, up=False).first()


def provider_key_for(*, user_id, connection: str) -> str | None:
    """The user's own key for the connection (decrypted), when it allows user keys and they stored one."""
    if not settings.LLM_CONNECTIONS_FROM_DATABASE:
        return None
    row = (
        ProviderKey.objects.filter(user_id=user_id, connection__name=connection, connection__allow_user_keys=True)
        .only("api_key_encrypted")
        .first()
    )
    return secrets.decrypt(row.api_key_encrypted) if row else None


def provider_keys_for(*, user) -> QuerySet[ProviderKey]:
    return ProviderKey.objects.filter(user_id=user.pk).select_related("connection").order_by("created_at")
