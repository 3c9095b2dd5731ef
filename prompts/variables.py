"""`{{ name }}` placeholders: parse them out of content, check values against specs, render literally.

Pure functions with no Django imports so the LLM app, the serializers and the tests share one
implementation. A `{{` always opens a placeholder: a malformed or unclosed one is an error
rather than literal text, so a typo never silently reaches a model.
"""

import math
import re
from collections.abc import Mapping
from typing import Any

MAX_VARIABLES = 50
MAX_NAME_LENGTH = 64
MAX_TEXT_LENGTH = 2_000
MAX_LONG_TEXT_LENGTH = 20_000

TYPE_TEXT = "text"
TYPE_LONG_TEXT = "long-text"
TYPE_NUMBER = "number"
TYPE_ENUM = "enum"
VARIABLE_TYPES = (TYPE_TEXT, TYPE_LONG_TEXT, TYPE_NUMBER, TYPE_ENUM)

PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
NUMBER_TEXT_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


class TemplateSyntaxError(ValueError):
    """The content has a malformed or unclosed placeholder, or too many variables."""


class RenderError(ValueError):
    """Values do not fit the template; `errors` maps each offending variable name to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()))
        self.errors = errors


def _line_and_column(content: str, position: int) -> tuple[int, int]:
    line = content.count("\n", 0, position) + 1
    column = position - (content.rfind("\n", 0, position) + 1) + 1
    return line, column


def _syntax_error(content: str, start: int) -> TemplateSyntaxError:
    line, column = _line_and_column(content, start)
    end = content.find("}}", start + 2)
    next_open = content.find("{{", start + 2)
    if end == -1 or (next_open != -1 and next_open < end):
        return TemplateSyntaxError(f"Unclosed '{{{{' at line {line}, column {column}.")
    snippet = content[start : end + 2]
    if len(snippet) > 60:
        snippet = snippet[:57] + "..."
    return TemplateSyntaxError(
        f"Malformed placeholder '{snippet}' at line {line}, column {column}: a variable name is letters, "
        "digits and underscores and does not start with a digit."
    )


def parse_variables(content: str) -> list[str]:
    """Distinct variable names in order of first use; raises TemplateSyntaxError on bad placeholders."""
    names: list[str] = []
    seen: set[str] = set()
    position = 0
    while (start := content.find("{{", position)) != -1:
        match = PLACEHOLDER_RE.match(content, start)
        if match is None:
            raise _syntax_error(content, start)
        name = match.group(1)
        if len(name) > MAX_NAME_LENGTH:
            line, column = _line_and_column(content, start)
            raise TemplateSyntaxError(
                f"Variable name at line {line}, column {column} is longer than {MAX_NAME_LENGTH} characters."
            )
        if name not in seen:
            seen.add(name)
            names.append(name)
        position = match.end()
    if len(names) > MAX_VARIABLES:
        raise TemplateSyntaxError(f"A template may use at most {MAX_VARIABLES} variables; this one uses {len(names)}.")
    return names


def default_label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize() or name


def effective_spec(name: str, specs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The full spec of one variable: the stored spec over the defaults (text, required, no default)."""
    spec = {
        "name": name,
        "label": default_label(name),
        "help": "",
        "type": TYPE_TEXT,
        "choices": [],
        "default": None,
        "required": True,
    }
    spec.update({key: value for key, value in (specs.get(name) or {}).items() if value is not None or key == "default"})
    spec["name"] = name
    return spec


def describe_variables(content: str, specs: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every variable of the content, in order of first use, with its effective spec."""
    return [effective_spec(name, specs) for name in parse_variables(content)]


def coerce_value(spec: Mapping[str, Any], value: Any) -> str:
    """The text a value renders as under `spec`; raises ValueError with a user-facing message."""
    kind = spec.get("type", TYPE_TEXT)
    if kind in (TYPE_TEXT, TYPE_LONG_TEXT):
        if not isinstance(value, str):
            raise ValueError("Must be a string.")
        if "\x00" in value:
            # Rendered prompts are stored (runs); PostgreSQL text cannot hold NUL.
            raise ValueError("Null characters are not allowed.")
        limit = MAX_TEXT_LENGTH if kind == TYPE_TEXT else MAX_LONG_TEXT_LENGTH
        if len(value) > limit:
            raise ValueError(f"Must be at most {limit} characters.")
        return value
    if kind == TYPE_NUMBER:
        # bool is an int subclass in Python; true/false are not numbers to a user.
        if isinstance(value, bool):
            raise ValueError("Must be a number.")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError("Must be a finite number.")
            return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        if isinstance(value, str) and NUMBER_TEXT_RE.fullmatch(value.strip()):
            return value.strip()
        raise ValueError("Must be a number.")
    if kind == TYPE_ENUM:
        choices = list(spec.get("choices") or [])
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"Must be one of: {', '.join(choices)}.")
        return value
    raise ValueError(f"Unknown variable type '{kind}'.")


def render(content: str, values: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Fill every placeholder once; values are inserted literally (never re-expanded).

    Raises TemplateSyntaxError for bad content and RenderError naming missing, unknown or
    ill-typed variables.
    """
    specs = specs or {}
    names = parse_variables(content)
    known = set(names)
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in known:
            errors[str(key)] = ["Unknown variable: the template has no such placeholder."]
    filled: dict[str, str] = {}
    for name in names:
        spec = effective_spec(name, specs)
        value = values.get(name)
        if value is None or value == "":
            if spec["default"] is not None:
                value = spec["default"]
            elif spec["required"]:
                errors[name] = ["This variable is required."]
                continue
            else:
                filled[name] = ""
                continue
        try:
            filled[name] = coerce_value(spec, value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise RenderError(errors)
    return PLACEHOLDER_RE.sub(lambda match: filled[match.group(1)], content)


SPEC_KEYS = frozenset({"label", "help", "type", "choices", "default", "required"})
MAX_LABEL_LENGTH = 100
MAX_HELP_LENGTH = 500
MAX_CHOICES = 50
MAX_CHOICE_LENGTH = 200


class SpecError(ValueError):
    """Variable specs do not fit the content; `errors` maps each offending variable name to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()))
        self.errors = errors


def _normalize_spec(name: str, raw: Any, names: set[str]) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    if name not in names:
        problems.append(f"The content has no {{{{ {name} }}}} placeholder.")
    if not isinstance(raw, Mapping):
        return {}, [*problems, "Must be an object."]
    unknown = sorted(str(key) for key in raw if key not in SPEC_KEYS)
    if unknown:
        problems.append(f"Unknown keys: {', '.join(unknown)}.")
    label = raw.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL_LENGTH):
        problems.append(f"label must be a string of at most {MAX_LABEL_LENGTH} characters.")
    help_text = raw.get("help")
    if help_text is not None and (not isinstance(help_text, str) or len(help_text) > MAX_HELP_LENGTH):
        problems.append(f"help must be a string of at most {MAX_HELP_LENGTH} characters.")
    kind = raw.get("type", TYPE_TEXT)
    if kind not in VARIABLE_TYPES:
        problems.append(f"type must be one of: {', '.join(VARIABLE_TYPES)}.")
    choices = raw.get("choices")
    if kind == TYPE_ENUM:
        valid = (
            isinstance(choices, list)
            and 1 <= len(choices) <= MAX_CHOICES
            and all(isinstance(c, str) and 0 < len(c) <= MAX_CHOICE_LENGTH for c in choices)
            and len(set(choices)) == len(choices)
        )
        if not valid:
            problems.append(
                f"choices must be a list of 1 to {MAX_CHOICES} distinct, non-empty strings "
                f"of at most {MAX_CHOICE_LENGTH} characters."
            )
    elif choices not in (None, []):
        problems.append("choices are only allowed for the enum type.")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        problems.append("required must be true or false.")
    default = raw.get("default")
    if problems:
        return {}, problems
    spec = {
        "label": label or default_label(name),
        "help": help_text or "",
        "type": kind,
        "choices": list(choices or []),
        "default": default,
        "required": required,
    }
    if default is not None:
        try:
            coerce_value(spec, default)
        except ValueError as exc:
            return {}, [f"default: {exc}"]
    return spec, []


def normalize_specs(content_names: list[str], raw_specs: Any) -> dict[str, dict[str, Any]]:
    """Checked specs in canonical form, for variables of the content only; raises SpecError."""
    if raw_specs is None:
        return {}
    if not isinstance(raw_specs, Mapping):
        raise SpecError({"non_field_errors": ["Must be an object mapping variable names to specs."]})
    names = set(content_names)
    specs: dict[str, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for name, raw in raw_specs.items():
        spec, problems = _normalize_spec(str(name), raw, names)
        if problems:
            errors[str(name)] = problems
        else:
            specs[str(name)] = spec
    if errors:
        raise SpecError(errors)
    return specs
