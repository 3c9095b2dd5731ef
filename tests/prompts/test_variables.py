import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompts import variables
from prompts.variables import RenderError, SpecError, TemplateSyntaxError


def test_parse_finds_distinct_names_in_order_of_first_use_with_or_without_spaces():
    content = "Explain {{topic}} to {{ audience }} in {{\tstyle\n}}; again: {{ topic }}."

    assert variables.parse_variables(content) == ["topic", "audience", "style"]


def test_parse_of_content_without_placeholders_is_empty():
    assert variables.parse_variables('Return JSON like {"a": {"b": 1}} and nothing else.') == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "Hi {{ 1x }}!",
            "Malformed placeholder '{{ 1x }}' at line 1, column 4: a variable name is letters, digits and "
            "underscores and does not start with a digit.",
        ),
        ("line one\nHi {{ name", "Unclosed '{{' at line 2, column 4."),
        ("{{ a }} {{ b {{ c }}", "Unclosed '{{' at line 1, column 9."),
        (
            "{{ first name }}",
            "Malformed placeholder '{{ first name }}' at line 1, column 1: a variable name is letters, digits and "
            "underscores and does not start with a digit.",
        ),
        (
            "{{}}",
            "Malformed placeholder '{{}}' at line 1, column 1: a variable name is letters, digits and "
            "underscores and does not start with a digit.",
        ),
    ],
)
def test_parse_rejects_malformed_and_unclosed_placeholders_with_their_position(content, message):
    with pytest.raises(TemplateSyntaxError) as excinfo:
        variables.parse_variables(content)

    assert str(excinfo.value) == message


def test_parse_rejects_more_than_fifty_variables():
    content = " ".join(f"{{{{ v{i} }}}}" for i in range(51))

    with pytest.raises(TemplateSyntaxError) as excinfo:
        variables.parse_variables(content)

    assert str(excinfo.value) == "A template may use at most 50 variables; this one uses 51."


def test_parse_accepts_exactly_fifty_variables():
    content = " ".join(f"{{{{ v{i} }}}}" for i in range(50))

    assert len(variables.parse_variables(content)) == 50


def test_render_inserts_values_literally_without_expanding_them_again():
    prompt = variables.render("A: {{ a }} / B: {{b}}", {"a": "{{ b }}", "b": "x"})

    assert prompt == "A: {{ b }} / B: x"


def test_render_names_missing_unknown_and_ill_typed_variables_together():
    specs = {
        "count": {"type": "number"},
        "tone": {"type": "enum", "choices": ["formal", "casual"]},
    }

    with pytest.raises(RenderError) as excinfo:
        variables.render(
            "{{ topic }} x{{ count }} in a {{ tone }} tone",
            {"count": "many", "tone": "angry", "colour": "red"},
            specs,
        )

    assert excinfo.value.errors == {
        "colour": ["Unknown variable: the template has no such placeholder."],
        "topic": ["This variable is required."],
        "count": ["Must be a number."],
        "tone": ["Must be one of: formal, casual."],
    }


def test_render_uses_defaults_and_leaves_optional_variables_empty():
    specs = {
        "tone": {"type": "enum", "choices": ["formal", "casual"], "default": "casual"},
        "extra": {"required": False},
    }

    prompt = variables.render("[{{ tone }}][{{ extra }}]", {}, specs)

    assert prompt == "[casual][]"


@pytest.mark.parametrize(
    ("value", "rendered"),
    [(3, "3"), (2.5, "2.5"), (4.0, "4"), (" 12 ", "12"), ("-1.5e3", "-1.5e3")],
)
def test_render_number_accepts_numbers_and_numeric_strings(value, rendered):
    assert variables.render("n={{ n }}", {"n": value}, {"n": {"type": "number"}}) == f"n={rendered}"


@pytest.mark.parametrize("value", [True, "12abc", [1], {"a": 1}, float("inf")])
def test_render_number_rejects_non_numbers(value):
    with pytest.raises(RenderError) as excinfo:
        variables.render("{{ n }}", {"n": value}, {"n": {"type": "number"}})

    assert list(excinfo.value.errors) == ["n"]


def test_render_text_rejects_non_strings_and_overlong_values():
    with pytest.raises(RenderError) as excinfo:
        variables.render("{{ a }} {{ b }}", {"a": 5, "b": "x" * 2001})

    assert excinfo.value.errors == {"a": ["Must be a string."], "b": ["Must be at most 2000 characters."]}


def test_render_rejects_null_characters_in_text():
    with pytest.raises(RenderError) as excinfo:
        variables.render("{{ a }}", {"a": "x\x00y"})

    assert excinfo.value.errors == {"a": ["Null characters are not allowed."]}


def test_long_text_allows_up_to_twenty_thousand_characters():
    value = "y" * 20_000

    assert variables.render("{{ body }}", {"body": value}, {"body": {"type": "long-text"}}) == value


def test_normalize_specs_fills_defaults():
    specs = variables.normalize_specs(["user_question"], {"user_question": {"type": "long-text"}})

    assert specs == {
        "user_question": {
            "label": "User question",
            "help": "",
            "type": "long-text",
            "choices": [],
            "default": None,
            "required": True,
        }
    }


def test_normalize_specs_names_every_bad_spec():
    raw = {
        "ghost": {},
        "tone": {"type": "enum"},
        "count": {"type": "number", "default": "lots"},
        "topic": {"colour": "red", "required": "yes"},
        "style": "formal",
    }

    with pytest.raises(SpecError) as excinfo:
        variables.normalize_specs(["tone", "count", "topic", "style"], raw)

    assert excinfo.value.errors == {
        "ghost": ["The content has no {{ ghost }} placeholder."],
        "tone": ["choices must be a list of 1 to 50 distinct, non-empty strings of at most 200 characters."],
        "count": ["default: Must be a number."],
        "topic": ["Unknown keys: colour.", "required must be true or false."],
        "style": ["Must be an object."],
    }


# --- properties -------------------------------------------------------------------------------

FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
names = st.builds(
    lambda head, tail: head + tail, st.sampled_from(FIRST), st.text(alphabet=FIRST + "0123456789", max_size=12)
)
plain_text = st.text(alphabet=st.characters(blacklist_characters="{}\x00", blacklist_categories=["Cs"]), max_size=30)
spacing = st.sampled_from(["", " ", "  ", "\t", "\n"])


# The machine is shared: no per-example deadline, and slow generation is not a failure.
shared_machine = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def templates(draw):
    """Content made of brace-free text and well-formed placeholders, with the names it uses."""
    parts, used = [], []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        parts.append(draw(plain_text))
        if draw(st.booleans()):
            name = draw(names)
            parts.append("{{" + draw(spacing) + name + draw(spacing) + "}}")
            used.append(name)
    return "".join(parts), list(dict.fromkeys(used))


@shared_machine
@given(templates())
def test_property_parse_finds_exactly_the_placeholders_written(template):
    content, used = template

    assert variables.parse_variables(content) == used


@shared_machine
@given(templates(), st.data())
def test_property_rendering_brace_free_values_leaves_no_placeholders(template, data):
    content, used = template
    values = {name: data.draw(plain_text) for name in used}
    values = {name: value or "x" for name, value in values.items()}

    prompt = variables.render(content, values)

    assert variables.parse_variables(prompt) == []
    for value in values.values():
        assert value in prompt


@shared_machine
@given(templates())
def test_property_rendering_each_variable_as_itself_is_stable(template):
    content, used = template
    identity = {name: "{{ " + name + " }}" for name in used}

    once = variables.render(content, identity)

    assert variables.parse_variables(once) == used
    assert variables.render(once, identity) == once


@shared_machine
@given(st.text(max_size=200), st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=5))
def test_property_no_input_crashes_the_parser_or_renderer(content, values):
    try:
        prompt = variables.render(content, values)
    except (TemplateSyntaxError, RenderError) as exc:
        assert str(exc)  # a clear message, never another exception type
    else:
        assert isinstance(prompt, str)
