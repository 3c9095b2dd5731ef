"""Each check type: its verdicts, what it can decide on a streamed prefix, and its validation."""

import time

import pytest

from challenges import checks
from challenges.checks import check_errors, prepare


def verdict(spec: dict, output: str) -> tuple[bool, str]:
    result = prepare(spec).run(output.strip())
    return result.passed, result.message


def passes(spec: dict, output: str) -> bool:
    return verdict(spec, output)[0]


def fails_early(spec: dict, prefix: str) -> bool:
    return prepare(spec).fails_on_prefix(prefix)


# --- verdicts ------------------------------------------------------------------------------------


def test_equals_is_exact_after_stripping():
    spec = {"type": "equals", "value": "Paris"}

    assert verdict(spec, "  Paris\n") == (True, 'equals "Paris"')
    assert verdict(spec, "paris") == (False, 'expected exactly "Paris", got "paris"')
    assert not passes(spec, "Paris.")


def test_contains_and_icontains_and_their_negations():
    assert passes({"type": "contains", "value": "Rome"}, "It is Rome.")
    assert not passes({"type": "contains", "value": "Rome"}, "it is rome")
    assert passes({"type": "icontains", "value": "ROME"}, "it is rome")
    assert verdict({"type": "not-contains", "value": "sorry"}, "Sorry, no") == (True, 'does not contain "sorry"')
    assert verdict({"type": "not-icontains", "value": "sorry"}, "Sorry, no") == (
        False,
        'expected the output not to contain "sorry" (any case)',
    )


def test_contains_any_and_all():
    any_of = {"type": "contains-any", "value": ["positive", "negative"]}
    all_of = {"type": "contains-all", "value": ["name", "age"]}

    assert verdict(any_of, "It is negative.") == (True, 'contains "negative"')
    assert verdict(any_of, "Neutral") == (False, 'contains none of "positive", "negative"')
    assert verdict(all_of, '{"name": "Ann", "age": 3}') == (True, "contains all of 2 values")
    assert verdict(all_of, '{"name": "Ann"}') == (False, 'missing "age"')


def test_starts_with_ignores_leading_whitespace():
    spec = {"type": "starts-with", "value": "Answer:"}

    assert passes(spec, "\n Answer: 4")
    assert verdict(spec, "The answer: 4") == (False, 'expected the output to start with "Answer:"')


def test_regex_searches_with_flags_and_not_regex_negates():
    assert passes({"type": "regex", "value": r"^\d{3}-\d{4}$"}, " 555-1234 ")
    assert not passes({"type": "regex", "value": "paris"}, "Paris")
    assert passes({"type": "regex", "value": "paris", "flags": "i"}, "Paris")
    assert verdict({"type": "not-regex", "value": r"\bsecret\b"}, "no secrets here") == (
        True,
        r"does not match /\bsecret\b/",
    )
    assert not passes({"type": "not-regex", "value": r"\bsecret\b"}, "the secret is out")


def test_is_json_parses_and_checks_a_schema():
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    spec = {"type": "is-json", "schema": schema}

    assert verdict({"type": "is-json"}, "[1, 2]") == (True, "valid JSON")
    assert verdict(spec, '{"name": "Ann", "age": 31}') == (True, "valid JSON matching the schema")
    assert verdict(spec, '{"name": "Ann", "age": -1}') == (
        False,
        "JSON does not match the schema at age: -1 is less than the minimum of 0",
    )
    assert verdict(spec, '{"name": "Ann"}') == (False, "JSON does not match the schema: 'age' is a required property")
    passed, message = verdict(spec, "```json\n{}\n```")
    assert not passed and message.startswith("not valid JSON: Expecting value (line 1, column 1)")


def test_is_json_fails_an_output_nested_past_the_parser_instead_of_raising():
    passed, message = verdict({"type": "is-json"}, "[" * 100_000 + "]" * 100_000)

    assert not passed and message.startswith("not acceptable JSON: Nested deeper than")


def test_word_count_bounds():
    spec = {"type": "word-count", "min": 2, "max": 3}

    assert verdict(spec, "one two") == (True, "2 words")
    assert verdict(spec, "one") == (False, "1 words; expected at least 2")
    assert verdict(spec, "one two three four") == (False, "4 words; expected at most 3")
    assert passes({"type": "word-count", "max": 0}, "   ")


# --- early decisions on a streamed prefix ---------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "prefix", "decided"),
    [
        ({"type": "not-contains", "value": "sorry"}, "I am sor", False),
        ({"type": "not-contains", "value": "sorry"}, "I am sorry", True),
        ({"type": "not-icontains", "value": "sorry"}, "SORRY", True),
        ({"type": "not-contains", "value": " sorry "}, "I am sorry ", False),  # the final strip could cut it
        ({"type": "starts-with", "value": "Answer:"}, "  Ans", False),
        ({"type": "starts-with", "value": "Answer:"}, "  Answer: 4", False),
        ({"type": "starts-with", "value": "Answer:"}, "The", True),
        ({"type": "equals", "value": "Paris"}, " Par", False),
        ({"type": "equals", "value": "Paris"}, "Paris \n", False),
        ({"type": "equals", "value": "Paris"}, "Paris, of course", True),
        ({"type": "equals", "value": "Paris"}, "London", True),
        ({"type": "word-count", "max": 2}, "one two thr", True),
        ({"type": "word-count", "max": 2}, "one tw", False),
        ({"type": "word-count", "min": 2}, "one two three", False),
        ({"type": "not-regex", "value": r"\d+"}, "call 555", False),  # the number may go on
        ({"type": "not-regex", "value": r"\d+"}, "call 555 now", True),
        ({"type": "not-regex", "value": r"secret$"}, "the secret and more", False),  # an end anchor
        ({"type": "not-regex", "value": r"foo(?!.*bar)"}, "foo and more", False),  # a lookahead
        ({"type": "contains", "value": "Paris"}, "London", False),
        ({"type": "regex", "value": "x"}, "yyy", False),
        ({"type": "is-json"}, "not json", False),
    ],
)
def test_what_a_prefix_decides(spec, prefix, decided):
    assert fails_early(spec, prefix) is decided


@pytest.mark.parametrize(
    ("spec", "prefix", "rest"),
    [
        ({"type": "not-contains", "value": "sorry"}, "I am sorry", " but no"),
        ({"type": "starts-with", "value": "Yes"}, "No", "pe, Yes"),
        ({"type": "equals", "value": "Paris"}, "Paris, of", " course"),
        ({"type": "word-count", "max": 2}, "one two thr", "ee"),
        ({"type": "not-regex", "value": r"\d+"}, "call 555 now", "!"),
    ],
)
def test_a_prefix_that_fails_fails_the_whole_output(spec, prefix, rest):
    assert fails_early(spec, prefix)
    assert not passes(spec, prefix + rest)


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "errors"),
    [
        ({"type": "equals", "value": "x"}, []),
        (
            {"type": "foo"},
            [
                "unknown check type 'foo'; known: equals, contains, not-contains, icontains, "
                "not-icontains, starts-with, contains-any, contains-all, regex, not-regex, is-json, "
                "word-count, llm-rubric."
            ],
        ),
        ("contains", ["a check must be an object with a type."]),
        ({"type": "contains"}, ["value must be a non-empty string."]),
        ({"type": "contains", "value": "x", "flags": "i"}, ["unknown keys for contains: flags."]),
        ({"type": "contains-any", "value": []}, ["value must be a list of 1 to 20 non-empty strings."]),
        ({"type": "regex", "value": "(unclosed"}, ["bad regex: missing ) at position 9."]),
        ({"type": "regex", "value": "x", "flags": "q"}, ["flags must be a string of i, m, s."]),
        (
            {"type": "is-json", "schema": {"type": "nope"}},
            ["bad JSON Schema at type: 'nope' is not valid under any of the given schemas."],
        ),
        ({"type": "is-json", "schema": []}, ["schema must be a JSON Schema object."]),
        ({"type": "word-count"}, ["give min, max or both."]),
        ({"type": "word-count", "min": 3, "max": 1}, ["min must not be above max."]),
        ({"type": "word-count", "max": True}, ["max must be a whole number, 0 or more."]),
        ({"type": "llm-rubric", "rubric": "Polite."}, ["llm-rubric needs a judge model, and none is configured here."]),
    ],
)
def test_validation_names_the_problem(spec, errors):
    assert check_errors(spec, judge_model="") == errors


def test_llm_rubric_is_accepted_where_a_judge_is_configured():
    assert check_errors({"type": "llm-rubric", "rubric": "Polite."}, judge_model="test:echo") == []
    assert check_errors({"type": "llm-rubric", "rubric": " "}, judge_model="test:echo") == [
        "rubric must be a non-empty string."
    ]


# --- author-written patterns that backtrack catastrophically ---------------------------------

CATASTROPHIC = [r"(a|aa)+$", r"(x+x+)+y", r"^(\w+\s?)+$", r"(.*,){10}x"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
@pytest.mark.parametrize("kind", ["regex", "not-regex"])
def test_a_pattern_that_times_out_on_the_probe_is_refused_at_save(kind, pattern):
    started = time.monotonic()

    errors = check_errors({"type": kind, "value": pattern}, judge_model="")

    assert errors == [
        "this regex takes over 50 ms on a few 2,000-character texts (catastrophic backtracking): "
        "avoid nested or overlapping repeats such as (a+)+ or (a|a)*."
    ]
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "pattern",
    [r"^\d{3}-\d{4}$", r"\bsecret\b", r"^\s*\{.*\}\s*$", r'"name"\s*:\s*"[^"]+"', r"(?:\w+\W+){0,40}\w*"],
)
def test_sound_patterns_pass_the_probe(pattern):
    assert check_errors({"type": "regex", "value": pattern}, judge_model="") == []


@pytest.mark.parametrize("kind", ["regex", "not-regex"])
def test_a_search_that_times_out_fails_its_check_with_a_message_instead_of_stalling(kind):
    check = prepare({"type": kind, "value": r"(a|aa)+$"})  # saved before the probe existed, say
    started = time.monotonic()

    result = check.run("a" * 40 + "!")

    assert time.monotonic() - started < 0.5
    assert not result.passed
    assert result.message == "/(a|aa)+$/ took over 20 ms on this output (too much backtracking)"
    assert check.run("b").passed is (kind == "not-regex")  # other outputs are judged as ever


def test_a_streamed_prefix_that_times_out_stops_checking_prefixes_for_that_check():
    check = prepare({"type": "not-regex", "value": r"(a|aa)+b"})
    streamed = "a" * 40 + "!"

    first = time.monotonic()
    assert check.fails_on_prefix(streamed) is False
    first = time.monotonic() - first
    later = time.monotonic()
    for n in range(20):
        assert check.fails_on_prefix(streamed + " more" * n) is False
    later = time.monotonic() - later

    assert first >= checks.MATCH_TIMEOUT_SECONDS
    assert later < checks.MATCH_TIMEOUT_SECONDS  # no search at all once one timed out
