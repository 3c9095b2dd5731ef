"""Typed access to environment variables: the only place settings read the environment."""

import json
import os
from typing import Any


def env_str(name: str, default: str = "") -> str:
    """The variable's value; unset or empty means `default` (as for every helper here)."""
    return os.environ.get(name) or default


def env_is_set(name: str) -> bool:
    """Whether the variable has a value (an empty one counts as unset, as everywhere here)."""
    return os.environ.get(name, "") != ""


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    return default if raw in (None, "") else json.loads(raw)
