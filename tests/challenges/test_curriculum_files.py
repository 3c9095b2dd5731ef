"""The built-in curriculum files: each one is a complete lesson whose cases and solutions fit together.

Structure only (no model runs): every `challenges/curriculum/NN-<slug>.json` has the fields of the
challenge document, enough public and hidden cases, checks the graders accept, and reference and
naive prompts that use exactly the cases' variables; hidden inputs stay out of everything a
learner reads; the whole set spans the tracks, techniques and difficulties the curriculum promises.
"""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import validators

from prompts import variables

CURRICULUM_DIR = Path(__file__).resolve().parents[2] / "challenges" / "curriculum"
FILE_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.json$")
REQUIRED_KEYS = {
    "slug", "title", "summary", "brief", "track", "technique", "difficulty", "cases", "samples",
    "pass_threshold", "par_tokens", "models", "default_model", "params", "hints", "system",
    "reference_prompt", "naive_prompt",
}  # fmt: skip
OPTIONAL_KEYS = {"system_hidden", "reference_system"}
TECHNIQUES = {
    "instructions", "delimiters", "few-shot", "classification", "json-output", "extraction",
    "step-by-step", "role-system", "injection-defence",
}  # fmt: skip
DIFFICULTIES = {"beginner", "intermediate", "advanced", "expert"}
LOCAL_MODELS = {"local:smollm2-135m-instruct", "local:gemma-3-270m"}
STRING_CHECKS = {"equals", "contains", "not-contains", "icontains", "not-icontains", "starts-with"}
LIST_CHECKS = {"contains-any", "contains-all"}
REGEX_CHECKS = {"regex", "not-regex"}
MAX_OUTPUT_TOKENS = 64  # the tiny embedded models stay on task for short outputs only

PATHS = sorted(CURRICULUM_DIR.glob("*.json"))
DOCUMENTS = [(path.name, json.loads(path.read_text())) for path in PATHS]


def _check_problems(check: dict[str, Any]) -> list[str]:
    kind = check.get("type")
    if kind in STRING_CHECKS:
        return [] if isinstance(check.get("value"), str) and check["value"] else ["value must be a non-empty string"]
    if kind in LIST_CHECKS:
        value = check.get("value")
        ok = isinstance(value, list) and value and all(isinstance(item, str) and item for item in value)
        return [] if ok else ["value must be a list of non-empty strings"]
    if kind in REGEX_CHECKS:
        try:
            re.compile(check["value"], re.IGNORECASE if "i" in check.get("flags", "") else 0)
        except (KeyError, re.error) as exc:
            return [f"bad regex: {exc}"]
        return [] if set(check.get("flags", "")) <= set("ims") else ["flags must be i, m or s"]
    if kind == "is-json":
        if "schema" in check:
            validators.validator_for(check["schema"]).check_schema(check["schema"])
        return []
    if kind == "word-count":
        bounds = [check.get("min"), check.get("max")]
        ok = any(b is not None for b in bounds) and all(b is None or (isinstance(b, int) and b >= 0) for b in bounds)
        return [] if ok else ["word-count needs a whole-number min or max"]
    return [f"unknown or unsupported check type {kind!r}"]


def test_the_curriculum_spans_tracks_techniques_and_difficulties():
    tracks = {document["track"] for _, document in DOCUMENTS}
    techniques = {document["technique"] for _, document in DOCUMENTS}
    difficulties = {document["difficulty"] for _, document in DOCUMENTS}

    assert len(DOCUMENTS) >= 24
    assert len(tracks) >= 4, tracks
    assert len(techniques) >= 6, techniques
    assert difficulties == DIFFICULTIES


def test_file_numbers_and_slugs_are_unique_and_match_the_documents():
    names = [FILE_NAME.match(path.name) for path in PATHS]

    assert all(names), [path.name for path, match in zip(PATHS, names, strict=True) if not match]
    assert [int(match.group(1)) for match in names] == list(range(1, len(PATHS) + 1))
    assert [match.group(2) for match in names] == [document["slug"] for _, document in DOCUMENTS]
    assert not [slug for slug, n in Counter(document["slug"] for _, document in DOCUMENTS).items() if n > 1]


@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_a_challenge_has_every_field_with_sensible_values(name, document):
    assert set(document) >= REQUIRED_KEYS, REQUIRED_KEYS - set(document)
    assert set(document) <= REQUIRED_KEYS | OPTIONAL_KEYS, set(document) - REQUIRED_KEYS - OPTIONAL_KEYS
    assert document["technique"] in TECHNIQUES
    assert document["difficulty"] in DIFFICULTIES
    assert document["default_model"] in LOCAL_MODELS
    assert document["params"]["temperature"] == 0
    assert 1 <= document["params"]["max_tokens"] <= MAX_OUTPUT_TOKENS
    assert document["samples"] == 1 and document["pass_threshold"] == 1.0
    assert isinstance(document["par_tokens"], int) and document["par_tokens"] > 0
    assert document["title"].strip() and document["summary"].strip()
    assert document["hints"] and all(isinstance(hint, str) and hint.strip() for hint in document["hints"])
    # The naive solution is the task pasted as is: no system prompt of its own.
    assert (document["reference_prompt"], document.get("reference_system", "")) != (document["naive_prompt"], "")
    if document["technique"] == "injection-defence":
        assert document["system"].strip(), "the secret lives in the challenge's system prompt"


@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_a_brief_is_a_lesson_then_a_task(name, document):
    brief = document["brief"]

    assert brief.lstrip().startswith("## ")
    assert "worked example" in brief.lower()
    assert "## Your task" in brief
    assert brief.index("## Your task") > brief.lower().index("worked example")
    for variable in document["cases"][0]["input"]:
        assert f"{{{{{variable}}}}}" in brief, f"the task names the variable {variable}"


@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_cases_are_public_and_hidden_and_share_their_variables(name, document):
    cases = document["cases"]
    public = [case for case in cases if not case["hidden"]]
    hidden = [case for case in cases if case["hidden"]]
    names = set(cases[0]["input"])

    assert len(public) >= 3 and len(hidden) >= 2
    assert len({case["id"] for case in cases}) == len(cases)
    for case in cases:
        assert set(case["input"]) == names
        assert all(isinstance(value, str) and value.strip() for value in case["input"].values())
        assert 1 <= len(case["checks"]) <= 10
        assert [problem for check in case["checks"] for problem in _check_problems(check)] == []
    assert len({json.dumps(case["input"], sort_keys=True) for case in cases}) == len(cases), "no repeated inputs"


@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_reference_and_naive_prompts_use_exactly_the_case_variables(name, document):
    names = set(document["cases"][0]["input"])

    for field in ("reference_prompt", "naive_prompt"):
        assert set(variables.parse_variables(document[field])) == names, field
        for case in document["cases"]:
            variables.render(document[field], case["input"])  # raises on a missing or unknown variable
    for field in ("system", "reference_system"):
        assert "{{" not in document.get(field, ""), f"{field} is sent as written, not rendered"


@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_hidden_inputs_appear_nowhere_a_learner_reads(name, document):
    readable = "\n".join(
        [document["title"], document["summary"], document["brief"], *document["hints"]]
        + [json.dumps(case) for case in document["cases"] if not case["hidden"]]
    ).lower()

    for case in document["cases"]:
        if case["hidden"]:
            for value in case["input"].values():
                shown = re.search(rf"(?<!\w){re.escape(value.lower())}(?!\w)", readable)
                assert shown is None, f"hidden input {value!r} is shown to learners"
