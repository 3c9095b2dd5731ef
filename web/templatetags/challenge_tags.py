"""How the challenge pages word a check (`{"type": "icontains", "value": "negative"}` → a sentence)."""

import json
from typing import Any

from django import template

register = template.Library()

_STRING_CHECKS = {
    "equals": "is exactly {value}",
    "contains": "contains {value}",
    "icontains": "contains {value} (any case)",
    "starts-with": "starts with {value}",
    "regex": "matches the pattern {value}",
    "not-contains": "does not contain {value}",
    "not-icontains": "does not contain {value} (any case)",
    "not-regex": "does not match the pattern {value}",
}
_LIST_CHECKS = {"contains-any": "contains one of {values}", "contains-all": "contains all of {values}"}


def _quoted(value: Any) -> str:
    return json.dumps(str(value), ensure_ascii=False)


@register.filter
def describe_check(check: Any) -> str:
    """A check as a short sentence about the output; an unknown shape falls back to its type."""
    if not isinstance(check, dict):
        return ""
    kind = str(check.get("type", ""))
    if kind in _STRING_CHECKS:
        text = _STRING_CHECKS[kind].format(value=_quoted(check.get("value", "")))
        flags = check.get("flags")
        return f"{text} (flags {flags})" if flags and kind.endswith("regex") else text
    if kind in _LIST_CHECKS and isinstance(check.get("value"), list):
        return _LIST_CHECKS[kind].format(values=", ".join(_quoted(item) for item in check["value"]))
    if kind == "is-json":
        return "is valid JSON matching a schema" if check.get("schema") else "is valid JSON"
    if kind == "word-count":
        low, high = check.get("min"), check.get("max")
        if low is not None and high is not None:
            return f"has {low} to {high} words"
        return f"has at least {low} words" if low is not None else f"has at most {high} words"
    if kind == "llm-rubric":
        return f"a judge model agrees: {_quoted(check.get('rubric', ''))}"
    return kind


@register.filter
def pretty_json(value: Any) -> str:
    """JSON for display (autoescaped by the template like any other text)."""
    return json.dumps(value, indent=2, ensure_ascii=False)
