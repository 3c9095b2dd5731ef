"""Output checks: each type validates its spec, prepares it once, and judges an output.

A check is a JSON object `{"type", ...}` (see the contract). String checks compare against the
output with surrounding whitespace stripped. Some types can fail a sample on a prefix of its
streamed output (`fails_on_prefix`): a prefix that fails them fails every output it starts, so
the run can be stopped at once. `llm-rubric` is judged by a model (challenges.rubric), not here.

Patterns are authors' text, so `regex`/`not-regex` use the `regex` package, whose matching takes
a timeout: a pattern that backtracks catastrophically fails its check (with a message saying so)
instead of holding the event loop, and a pattern that already times out on a short probe text
is refused when the challenge is saved.

    errors = check_errors(spec, judge_model="")   # [] when the spec is valid
    check = prepare(spec)                        # once per attempt
    check.run(output.strip())                    # Verdict(passed, message)
    check.fails_on_prefix(streamed_so_far)       # True: the sample has failed already
"""

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import regex
from jsonschema import exceptions as schema_exceptions
from jsonschema import validators as schema_validators

from core import safe_json

MAX_VALUE_CHARS = 1_000
MAX_LIST_ITEMS = 20
MAX_PATTERN_CHARS = 500
MAX_SCHEMA_CHARS = 10_000
MAX_RUBRIC_CHARS = 2_000
REGEX_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL}
# How long one search of an output may take: grading runs on the server's event loop.
MATCH_TIMEOUT_SECONDS = 0.02
# Saving a pattern searches probe texts of PROBE_CHARS each; one that needs more than the budget
# for all of them is refused (a sound pattern needs well under a millisecond).
PROBE_BUDGET_SECONDS = 0.05
PROBE_CHARS = 2_000
_PROBE_UNITS = ("a", "1", " ", "aA1. ", "word ", "a\n")
_METACHARACTERS = set("\\()[]{}?*+|^$.")
# Patterns whose match on a prefix may not survive more text: end anchors and lookarounds.
_PREFIX_UNSAFE = re.compile(r"\$|\\Z|\\z|\(\?[=!<]")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str


@dataclass(frozen=True)
class PreparedCheck:
    """A check ready to judge outputs (its regex compiled, its schema's validator built)."""

    type: str
    run: Callable[[str], Verdict]
    fails_on_prefix: Callable[[str], bool] = field(default=lambda prefix: False)
    rubric: str | None = None  # llm-rubric: judged by the judge model


@dataclass(frozen=True)
class CheckType:
    name: str
    keys: frozenset[str]  # allowed keys besides "type"
    validate: Callable[[Mapping[str, Any]], list[str]]
    prepare: Callable[[Mapping[str, Any]], PreparedCheck]


def _quote(text: str, limit: int = 60) -> str:
    return json.dumps(text if len(text) <= limit else text[: limit - 1] + "…", ensure_ascii=False)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- validation helpers ----------------------------------------------------------------------


def _string_value(spec: Mapping[str, Any]) -> list[str]:
    value = spec.get("value")
    if not isinstance(value, str) or not value:
        return ["value must be a non-empty string."]
    if len(value) > MAX_VALUE_CHARS:
        return [f"value must be at most {MAX_VALUE_CHARS} characters."]
    return []


def _string_list(spec: Mapping[str, Any]) -> list[str]:
    value = spec.get("value")
    valid = (
        isinstance(value, list)
        and 1 <= len(value) <= MAX_LIST_ITEMS
        and all(isinstance(item, str) and 0 < len(item) <= MAX_VALUE_CHARS for item in value)
    )
    return [] if valid else [f"value must be a list of 1 to {MAX_LIST_ITEMS} non-empty strings."]


def _flags(spec: Mapping[str, Any]) -> int:
    return sum(REGEX_FLAGS[flag] for flag in set(spec.get("flags") or ""))


def _probe_texts(pattern: str) -> list[str]:
    """Long runs of common text and of the pattern's own literal characters, each with an odd end.

    Nested or overlapping repeats (`(a+)+$`, `(\\w+\\s?)+$`) backtrack exponentially on a run of
    what they repeat followed by something that does not fit.
    """
    literals = sorted({char for char in pattern if char not in _METACHARACTERS and char.isprintable()})
    units = [*_PROBE_UNITS, *literals[:20]]
    if literals:
        units.append("".join(literals[:20]))
    return [(unit * (PROBE_CHARS // len(unit) + 1))[:PROBE_CHARS] + "\x00" for unit in units]


def _regex_spec(spec: Mapping[str, Any]) -> list[str]:
    pattern, flags = spec.get("value"), spec.get("flags", "")
    if not isinstance(pattern, str) or not pattern:
        return ["value must be a non-empty regular expression."]
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"value must be at most {MAX_PATTERN_CHARS} characters."]
    if not isinstance(flags, str) or set(flags) - set(REGEX_FLAGS):
        return [f"flags must be a string of {', '.join(REGEX_FLAGS)}."]
    try:
        compiled = regex.compile(pattern, _flags(spec))
    except regex.error as exc:
        return [f"bad regex: {exc}."]
    deadline = time.monotonic() + PROBE_BUDGET_SECONDS
    try:
        for text in _probe_texts(pattern):
            compiled.search(text, timeout=max(deadline - time.monotonic(), 1e-6))
    except TimeoutError:
        return [
            f"this regex takes over {PROBE_BUDGET_SECONDS * 1000:g} ms on a few {PROBE_CHARS:,}-character texts "
            "(catastrophic backtracking): avoid nested or overlapping repeats such as (a+)+ or (a|a)*."
        ]
    return []


def _json_spec(spec: Mapping[str, Any]) -> list[str]:
    if "schema" not in spec:
        return []
    schema = spec["schema"]
    if not isinstance(schema, dict):
        return ["schema must be a JSON Schema object."]
    if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
        return [f"schema must be at most {MAX_SCHEMA_CHARS} characters of JSON."]
    try:
        schema_validators.validator_for(schema).check_schema(schema)
    except schema_exceptions.SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        return [f"bad JSON Schema{f' at {where}' if where else ''}: {exc.message}."]
    return []


def _word_count_spec(spec: Mapping[str, Any]) -> list[str]:
    low, high = spec.get("min"), spec.get("max")
    if low is None and high is None:
        return ["give min, max or both."]
    for name, bound in (("min", low), ("max", high)):
        if bound is not None and (not _is_int(bound) or bound < 0):
            return [f"{name} must be a whole number, 0 or more."]
    if low is not None and high is not None and low > high:
        return ["min must not be above max."]
    return []


def _rubric_spec(spec: Mapping[str, Any]) -> list[str]:
    rubric = spec.get("rubric")
    if not isinstance(rubric, str) or not rubric.strip():
        return ["rubric must be a non-empty string."]
    if len(rubric) > MAX_RUBRIC_CHARS:
        return [f"rubric must be at most {MAX_RUBRIC_CHARS} characters."]
    return []


# --- the checks ------------------------------------------------------------------------------


def _prefix_has(value: str, prefix: str, *, fold: bool) -> bool:
    """Whether `prefix` already holds `value` wherever the output ends (a value without edge spaces)."""
    if value != value.strip():
        return False  # stripping the final output could cut such a match off
    return (value.lower() in prefix.lower()) if fold else (value in prefix)


def _equals(spec: Mapping[str, Any]) -> PreparedCheck:
    value = spec["value"]

    def run(output: str) -> Verdict:
        if output == value:
            return Verdict(True, f"equals {_quote(value)}")
        return Verdict(False, f"expected exactly {_quote(value)}, got {_quote(output)}")

    def fails_on_prefix(prefix: str) -> bool:
        head = prefix.lstrip()
        return not (value.startswith(head) or head.rstrip() == value)

    return PreparedCheck("equals", run, fails_on_prefix)


def _contains(spec: Mapping[str, Any], *, fold: bool, negate: bool) -> PreparedCheck:
    value = spec["value"]
    needle = value.lower() if fold else value
    name = f"{'not-' if negate else ''}{'i' if fold else ''}contains"
    case = " (any case)" if fold else ""

    def run(output: str) -> Verdict:
        found = needle in (output.lower() if fold else output)
        if found != negate:
            return Verdict(True, f"{'does not contain' if negate else 'contains'} {_quote(value)}{case}")
        return Verdict(False, f"expected the output {'not ' if negate else ''}to contain {_quote(value)}{case}")

    if not negate:
        return PreparedCheck(name, run)
    return PreparedCheck(name, run, lambda prefix: _prefix_has(value, prefix, fold=fold))


def _contains_set(spec: Mapping[str, Any], *, every: bool) -> PreparedCheck:
    values = list(spec["value"])
    name = "contains-all" if every else "contains-any"

    def run(output: str) -> Verdict:
        missing = [value for value in values if value not in output]
        if every and not missing:
            return Verdict(True, f"contains all of {len(values)} values")
        if not every and len(missing) < len(values):
            found = next(value for value in values if value in output)
            return Verdict(True, f"contains {_quote(found)}")
        if every:
            return Verdict(False, f"missing {', '.join(_quote(value) for value in missing)}")
        return Verdict(False, f"contains none of {', '.join(_quote(value) for value in values)}")

    return PreparedCheck(name, run)


def _starts_with(spec: Mapping[str, Any]) -> PreparedCheck:
    value = spec["value"]

    def run(output: str) -> Verdict:
        if output.startswith(value):
            return Verdict(True, f"starts with {_quote(value)}")
        return Verdict(False, f"expected the output to start with {_quote(value)}")

    def fails_on_prefix(prefix: str) -> bool:
        head = prefix.lstrip()
        return not (head.startswith(value) or value.startswith(head))

    return PreparedCheck("starts-with", run, fails_on_prefix)


def _regex(spec: Mapping[str, Any], *, negate: bool) -> PreparedCheck:
    pattern = regex.compile(spec["value"], _flags(spec))
    shown = spec["value"] if len(spec["value"]) <= 60 else spec["value"][:59] + "…"

    def run(output: str) -> Verdict:
        try:
            found = pattern.search(output, timeout=MATCH_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            return Verdict(
                False, f"/{shown}/ took over {MATCH_TIMEOUT_SECONDS * 1000:g} ms on this output (too much backtracking)"
            )
        if found != negate:
            return Verdict(True, f"{'does not match' if negate else 'matches'} /{shown}/")
        return Verdict(False, f"expected the output {'not ' if negate else ''}to match /{shown}/")

    if not negate:
        return PreparedCheck("regex", run)
    if _PREFIX_UNSAFE.search(spec["value"]):
        return PreparedCheck("not-regex", run)
    timed_out: list[bool] = []  # once a prefix times out, the check waits for the whole output

    def fails_on_prefix(prefix: str) -> bool:
        # A match counts once more text follows it within the prefix: the final output holds the
        # same characters around it (and its stripping cannot reach it).
        if timed_out:
            return False
        head = prefix.lstrip()
        try:
            return any(head[match.end() :].strip() for match in pattern.finditer(head, timeout=MATCH_TIMEOUT_SECONDS))
        except TimeoutError:
            timed_out.append(True)
            return False

    return PreparedCheck("not-regex", run, fails_on_prefix)


def _is_json(spec: Mapping[str, Any]) -> PreparedCheck:
    schema = spec.get("schema")
    validator = schema_validators.validator_for(schema)(schema) if schema is not None else None

    def run(output: str) -> Verdict:
        try:
            value = safe_json.loads(output)  # a model's output may be nested past the parser's recursion
        except safe_json.JSONRefused as exc:
            return Verdict(False, f"not acceptable JSON: {exc}")
        except ValueError as exc:
            return Verdict(False, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
        if validator is None:
            return Verdict(True, "valid JSON")
        if validator.is_valid(value):
            return Verdict(True, "valid JSON matching the schema")
        error = schema_exceptions.best_match(validator.iter_errors(value))
        where = "/".join(str(part) for part in error.absolute_path)
        return Verdict(False, f"JSON does not match the schema{f' at {where}' if where else ''}: {error.message}")

    return PreparedCheck("is-json", run)


def _word_count(spec: Mapping[str, Any]) -> PreparedCheck:
    low, high = spec.get("min"), spec.get("max")

    def run(output: str) -> Verdict:
        words = len(output.split())
        if low is not None and words < low:
            return Verdict(False, f"{words} words; expected at least {low}")
        if high is not None and words > high:
            return Verdict(False, f"{words} words; expected at most {high}")
        return Verdict(True, f"{words} words")

    if high is None:
        return PreparedCheck("word-count", run)
    # More text never lowers the count: a prefix over the maximum has failed already.
    return PreparedCheck("word-count", run, lambda prefix: len(prefix.split()) > high)


def _rubric(spec: Mapping[str, Any]) -> PreparedCheck:
    def run(output: str) -> Verdict:
        raise RuntimeError("llm-rubric checks are judged by challenges.rubric")

    return PreparedCheck("llm-rubric", run, rubric=spec["rubric"])


def _string_type(name: str, prepare: Callable[[Mapping[str, Any]], PreparedCheck]) -> CheckType:
    return CheckType(name, frozenset({"value"}), _string_value, prepare)


CHECK_TYPES: dict[str, CheckType] = {
    check.name: check
    for check in (
        _string_type("equals", _equals),
        _string_type("contains", lambda spec: _contains(spec, fold=False, negate=False)),
        _string_type("not-contains", lambda spec: _contains(spec, fold=False, negate=True)),
        _string_type("icontains", lambda spec: _contains(spec, fold=True, negate=False)),
        _string_type("not-icontains", lambda spec: _contains(spec, fold=True, negate=True)),
        _string_type("starts-with", _starts_with),
        CheckType("contains-any", frozenset({"value"}), _string_list, lambda spec: _contains_set(spec, every=False)),
        CheckType("contains-all", frozenset({"value"}), _string_list, lambda spec: _contains_set(spec, every=True)),
        CheckType("regex", frozenset({"value", "flags"}), _regex_spec, lambda spec: _regex(spec, negate=False)),
        CheckType("not-regex", frozenset({"value", "flags"}), _regex_spec, lambda spec: _regex(spec, negate=True)),
        CheckType("is-json", frozenset({"schema"}), _json_spec, _is_json),
        CheckType("word-count", frozenset({"min", "max"}), _word_count_spec, _word_count),
        CheckType("llm-rubric", frozenset({"rubric"}), _rubric_spec, _rubric),
    )
}


def check_errors(spec: Any, *, judge_model: str) -> list[str]:
    """What is wrong with a check spec ([] if nothing); `judge_model` empty refuses llm-rubric."""
    if not isinstance(spec, Mapping):
        return ["a check must be an object with a type."]
    kind = spec.get("type")
    check_type = CHECK_TYPES.get(kind) if isinstance(kind, str) else None
    if check_type is None:
        return [f"unknown check type {kind!r}; known: {', '.join(CHECK_TYPES)}."]
    unknown = sorted(str(key) for key in spec if key != "type" and key not in check_type.keys)
    if unknown:
        return [f"unknown keys for {kind}: {', '.join(unknown)}."]
    if kind == "llm-rubric" and not judge_model:
        return ["llm-rubric needs a judge model, and none is configured here."]
    return check_type.validate(spec)


def prepare(spec: Mapping[str, Any]) -> PreparedCheck:
    """A validated check, ready to judge outputs."""
    return CHECK_TYPES[spec["type"]].prepare(spec)
