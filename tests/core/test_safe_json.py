"""core.safe_json: JSON from clients, with bounded nesting, finite numbers and storable text."""

import pytest

from core import safe_json


def nested(depth: int) -> str:
    return '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)


def test_a_document_at_the_depth_limit_parses():
    value = safe_json.loads(nested(safe_json.MAX_DEPTH))

    for _ in range(safe_json.MAX_DEPTH - 1):
        value = value["a"]
    assert value == []


@pytest.mark.parametrize("depth", [safe_json.MAX_DEPTH + 1, 1_000, 100_000])
def test_a_document_past_the_depth_limit_is_refused(depth):
    with pytest.raises(safe_json.JSONRefused, match="Nested deeper than 64 levels"):
        safe_json.loads(nested(depth))


def test_depth_counts_containers_not_scalars_or_keys():
    assert safe_json.loads("[" * 63 + '{"k": "v"}' + "]" * 63)[0][0][0] is not None


@pytest.mark.parametrize("text", ["1e999", "-1e999", "[NaN]", '{"a": Infinity}', "-Infinity"])
def test_non_finite_numbers_are_refused(text):
    with pytest.raises(safe_json.JSONRefused):
        safe_json.loads(text)


def test_big_finite_numbers_and_integers_parse():
    assert safe_json.loads("[1e308, 12345678901234567890]") == [1e308, 12345678901234567890]


@pytest.mark.parametrize("text", ['"\\ud800"', '{"\\udfff": 1}', '["ok", ["\\uDBFFx"]]'])
def test_lone_surrogate_escapes_are_refused(text):
    with pytest.raises(safe_json.JSONRefused, match="lone surrogates"):
        safe_json.loads(text)


def test_escaped_surrogate_pairs_and_raw_unicode_parse():
    assert safe_json.loads('["\\ud83d\\ude00", "é ✓ 😀"]') == ["😀", "é ✓ 😀"]


@pytest.mark.parametrize("raw", [b'"\xff"', b"{nope", b""])
def test_invalid_text_is_a_value_error(raw):
    with pytest.raises(ValueError):
        safe_json.loads(raw)
