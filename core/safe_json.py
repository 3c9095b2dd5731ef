"""Client JSON, parsed with limits: bounded nesting, finite numbers, text PostgreSQL can store.

Every body and socket message from a client goes through `loads` (the REST parser, /session/, the
WebSocket consumers), so a document nested a thousand deep, a `1e999` or a lone surrogate escape
(`"\\ud800"`) is a parse error there rather than a RecursionError or a database error later.
"""

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
# A \uD800-\uDFFF escape: the only way a lone surrogate gets into a string parsed from UTF-8 text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONRefused(ValueError):
    """Valid JSON that the application does not accept; the message says why."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(f"Number out of range: {text[:20]}")
    return value


def _refuse_constant(name: str) -> Any:
    raise JSONRefused(f"{name} is not valid JSON.")


def _check(value: Any, max_depth: int, surrogates_possible: bool) -> None:
    """Nesting within `max_depth`, and (when the text had such escapes) no lone surrogates; iterative."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            if surrogates_possible:
                stack.extend((key, depth) for key in item)
        elif isinstance(item, list):
            children = item
        else:
            if surrogates_possible and isinstance(item, str) and not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    raise JSONRefused("Strings must be valid Unicode (no lone surrogates).") from None
            continue
        if depth > max_depth:
            raise JSONRefused(f"Nested deeper than {max_depth} levels.")
        stack.extend((child, depth + 1) for child in children)


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed document; ValueError (JSONRefused for the limits) if it is not acceptable JSON."""
    if isinstance(text, bytes | bytearray):
        text = text.decode()
    try:
        value = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONRefused(f"Nested deeper than {max_depth} levels.") from None
    _check(value, max_depth, surrogates_possible=_SURROGATE_ESCAPE.search(text) is not None)
    return value
