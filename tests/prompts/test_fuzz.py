"""Random input through the REST API: every answer is a success or a 4xx, never a server error."""

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

fuzz = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
good_pieces = ["{{ x }}", "{{y}}", "text ", " ", "\n", "{{ z}}", "more text", "}", "{"]
bad_pieces = ["}}", "{{", "{{ 1a }}", "{{ x"]
titles = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=40)
spec_shapes = st.fixed_dictionaries(
    {},
    optional={
        "label": st.text(max_size=10),
        "type": st.sampled_from(["text", "long-text", "number", "enum"]),
        "choices": st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True),
        "default": st.none() | st.sampled_from(["a", "3", 4]),
        "required": st.booleans(),
        "other": json_values,
    },
)


@st.composite
def payloads(draw) -> dict:
    """Template bodies: about half well-formed (so creation succeeds too), the rest broken in random ways."""
    pieces = good_pieces + (bad_pieces if draw(st.booleans()) else [])
    content = "".join(draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=8)))
    names = [name for name in ("x", "y", "z") if name in content]
    payload = {
        "title": draw(titles),
        "content": content,
        "variable_specs": draw(st.dictionaries(st.sampled_from(names or ["x"]), spec_shapes, max_size=2)),
        "tags": draw(st.lists(st.sampled_from(["few-shot", "json", "a1"]), max_size=3)),
    }
    for field in draw(st.lists(st.sampled_from([*payload, "category", "visibility"]), max_size=2, unique=True)):
        payload[field] = draw(json_values | st.text(max_size=210))
    return payload


@fuzz
@given(payload=payloads())
def test_creating_from_random_input_is_a_201_or_a_400(auth_client, payload):
    response = auth_client.post("/api/v1/templates/", payload, format="json")

    assert response.status_code in (201, 400), response.content
    event(f"status {response.status_code}")


render_values = st.fixed_dictionaries(
    {"text": st.text(min_size=1, max_size=10), "audience": st.text(min_size=1, max_size=10)},
    optional={
        "n": st.integers() | st.sampled_from(["1.5", "x", " 7 "]) | json_values,
        "tone": st.sampled_from(["a", "b", "c"]),
        "extra": json_values,
    },
)


@fuzz
@given(values=render_values | st.dictionaries(st.sampled_from(["text", "audience", "n"]), json_values) | json_values)
def test_rendering_random_values_is_a_200_or_a_400(auth_client, user, make_template, values):
    template = make_template(
        user,
        content="{{ text }} {{ audience }} {{ n }} {{ tone }}",
        variable_specs={
            "n": {"type": "number", "required": False},
            "tone": {"type": "enum", "choices": ["a", "b"], "default": "a"},
        },
    )

    response = auth_client.post(f"/api/v1/templates/{template.pk}/render/", {"variables": values}, format="json")

    assert response.status_code in (200, 400), response.content
    event(f"status {response.status_code}")


list_params = st.dictionaries(
    st.sampled_from(
        ["category", "difficulty", "tag", "owner", "visibility", "favorited", "search", "ordering", "page", "page_size"]
    ),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
    | st.sampled_from(["me", "true", "-rating_avg", "json", "public", "2", "100", "beginner"]),
    max_size=4,
)


@fuzz
@given(params=list_params)
def test_listing_with_random_parameters_is_a_200_400_or_404(auth_client, params):
    response = auth_client.get("/api/v1/templates/", params)

    assert response.status_code in (200, 400, 404), response.content
    event(f"status {response.status_code}")
