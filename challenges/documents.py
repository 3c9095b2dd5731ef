"""The challenge document: what authors POST and PATCH, what export writes and import reads.

One serializer checks every field, the cases and each of their checks, so the REST API, the
import, the built-in curriculum and the admin refuse the same things with the same messages.
Case errors name the case and the check by position:
`{"cases": {"2": {"checks": {"0": ["unknown check type 'foo'; ..."]}}}}`.
"""

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import serializers

from challenges import checks
from challenges.models import BRIEF_MAX_CHARS, Technique
from core.serializer_fields import JSONField
from llm import registry
from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS
from prompts import variables
from prompts.models import Difficulty

MAX_CASES = 50
MAX_CHECKS = 10
MAX_SAMPLES = 10
MAX_CASE_SAMPLES = 100  # cases x samples: the runs of one attempt
MAX_INPUT_CHARS = 4_000
MAX_CASES_JSON_CHARS = 200_000
MAX_HINTS = 10
MAX_MODELS = 20
CASE_KEYS = frozenset({"id", "input", "checks", "hidden"})
CASE_ID_PATTERN = r"^c[1-9][0-9]{0,3}$"
# A case input's name: what a {{placeholder}} may hold (prompts.variables.PLACEHOLDER_RE).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_OUTPUT_TOKENS = 4_096


def _case_errors(case: Any, *, judge_model: str) -> dict[str, Any]:
    if not isinstance(case, dict):
        return {"non_field_errors": ["A case is an object with input and checks."]}
    errors: dict[str, Any] = {}
    unknown = sorted(str(key) for key in case if key not in CASE_KEYS)
    if unknown:
        errors["non_field_errors"] = [f"Unknown keys: {', '.join(unknown)}."]
    given = case.get("input")
    if not isinstance(given, dict) or not given:
        errors["input"] = ["Must be an object of variable names to text."]
    else:
        problems = {}
        for name, value in given.items():
            if not _NAME.fullmatch(str(name)) or len(str(name)) > variables.MAX_NAME_LENGTH:
                problems[str(name)] = [
                    "Not a variable name: letters, digits and underscores, not starting with a digit."
                ]
            elif not isinstance(value, str) or "\x00" in value:
                problems[str(name)] = ["Must be text."]
            elif len(value) > MAX_INPUT_CHARS:
                problems[str(name)] = [f"Must be at most {MAX_INPUT_CHARS} characters."]
        if problems:
            errors["input"] = problems
    specs = case.get("checks")
    if not isinstance(specs, list) or not 1 <= len(specs) <= MAX_CHECKS:
        errors["checks"] = [f"Give 1 to {MAX_CHECKS} checks."]
    else:
        problems = {
            str(index): messages
            for index, spec in enumerate(specs)
            if (messages := checks.check_errors(spec, judge_model=judge_model))
        }
        if problems:
            errors["checks"] = problems
    if not isinstance(case.get("hidden", False), bool):
        errors["hidden"] = ["Must be true or false."]
    if "id" in case and (not isinstance(case["id"], str) or len(case["id"]) > 16):
        errors["id"] = ["Must be a case id such as 'c3'."]
    return errors


def cases_validate(cases: Any, *, judge_model: str) -> list[dict[str, Any]]:
    """The cases in canonical form (`hidden` filled in); raises ValidationError naming each bad case."""
    if not isinstance(cases, list) or not 1 <= len(cases) <= MAX_CASES:
        raise serializers.ValidationError(f"Give 1 to {MAX_CASES} cases.")
    if len(json.dumps(cases)) > MAX_CASES_JSON_CHARS:
        raise serializers.ValidationError(f"The cases must be at most {MAX_CASES_JSON_CHARS} characters of JSON.")
    errors = {
        str(index): found for index, case in enumerate(cases) if (found := _case_errors(case, judge_model=judge_model))
    }
    if errors:
        raise serializers.ValidationError(errors)
    names = set(cases[0]["input"])
    differing = {
        str(index): {"input": [f"Every case gives the same variables: {', '.join(sorted(names))}."]}
        for index, case in enumerate(cases)
        if set(case["input"]) != names
    }
    if differing:
        raise serializers.ValidationError(differing)
    if all(case.get("hidden", False) for case in cases):
        raise serializers.ValidationError("At least one case must be public: learners need an example.")
    return [{**case, "hidden": case.get("hidden", False)} for case in cases]


class CasesField(JSONField):
    """`[{input: {...}, checks: [...], hidden?: bool, id?}]`, every check validated."""

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        return cases_validate(super().to_internal_value(data), judge_model=settings.CHALLENGES_JUDGE_MODEL)


class ParamsSerializer(serializers.Serializer):
    temperature = serializers.FloatField(required=False, min_value=0.0, max_value=2.0)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=MAX_OUTPUT_TOKENS)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and (unknown := sorted(str(key) for key in data if key not in self.fields)):
            raise serializers.ValidationError({key: ["Unknown parameter."] for key in unknown})
        return super().to_internal_value(data)


def _model_id(value: str) -> str:
    try:
        registry.model_get(value)
    except registry.UnknownModel:
        raise serializers.ValidationError(f"Unknown model {value!r}.") from None
    return value


class ChallengeDocumentSerializer(serializers.Serializer):
    """A challenge as authored, exported and imported (see README, "Challenges")."""

    slug = serializers.SlugField(max_length=80, required=False)
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    brief = serializers.CharField(max_length=BRIEF_MAX_CHARS, trim_whitespace=False)
    track = serializers.SlugField(max_length=50, required=False, default="foundations")
    technique = serializers.ChoiceField(choices=Technique.choices)
    difficulty = serializers.ChoiceField(choices=Difficulty.choices)
    cases = CasesField(help_text="[{input: {name: text}, checks: [{type, ...}], hidden: bool}]")
    samples = serializers.IntegerField(min_value=1, max_value=MAX_SAMPLES, required=False, default=1)
    pass_threshold = serializers.FloatField(min_value=0.01, max_value=1.0, required=False, default=1.0)
    par_tokens = serializers.IntegerField(min_value=1, max_value=10_000, required=False, default=100)
    models = serializers.ListField(
        child=serializers.CharField(max_length=100, validators=[_model_id]),
        max_length=MAX_MODELS,
        required=False,
        default=list,
        help_text="Model ids an attempt may use; empty: any.",
    )
    default_model = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", validators=[_model_id]
    )
    params = ParamsSerializer(required=False, default=dict)
    hints = serializers.ListField(
        child=serializers.CharField(max_length=500), max_length=MAX_HINTS, required=False, default=list
    )
    system = serializers.CharField(
        max_length=SYSTEM_MAX_CHARS, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    system_hidden = serializers.BooleanField(required=False, default=False)
    reference_prompt = serializers.CharField(
        max_length=PROMPT_MAX_CHARS, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    reference_system = serializers.CharField(
        max_length=SYSTEM_MAX_CHARS, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    naive_prompt = serializers.CharField(
        max_length=PROMPT_MAX_CHARS, required=False, allow_blank=True, default="", trim_whitespace=False
    )

    def validate_models(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        models = attrs.get("models", [])
        default = attrs.get("default_model", "")
        if default and models and default not in models:
            errors["default_model"] = ["Must be one of the challenge's models."]
        cases = attrs.get("cases")
        if cases is not None:
            if len(cases) * attrs.get("samples", 1) > MAX_CASE_SAMPLES:
                errors["samples"] = [f"Cases times samples must be at most {MAX_CASE_SAMPLES}."]
            names = set(cases[0]["input"])
            for field in ("reference_prompt", "naive_prompt"):
                if problem := _template_problem(attrs.get(field) or "", names):
                    errors[field] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _template_problem(template: str, names: set[str]) -> str | None:
    """Why a solution template does not fit the cases' variables, if it does not."""
    if not template:
        return None
    try:
        used = set(variables.parse_variables(template))
    except variables.TemplateSyntaxError as exc:
        return str(exc)
    if unknown := sorted(used - names):
        return f"Unknown variables: {', '.join(unknown)}."
    return None
