"""`run.token` frames' JSON text: formatted from a per-run prefix, it must be json.dumps' text exactly."""

import json
import uuid

import pytest

from llm.events import RunToken, token_frame, token_frame_prefix, token_frame_text

DELTAS = [
    " hello",
    "",
    'quote " and backslash \\',
    "new\nline\ttab\r\x00\x1f",
    "accents éàü, CJK 漢字, emoji 🙂 (a surrogate pair in JSON)",
    "\u2028\u2029 separators",
    "</script>",
]


@pytest.mark.parametrize("delta", DELTAS)
def test_token_frame_text_is_the_compact_json_of_the_frame(delta):
    run_id = str(uuid.uuid4())

    text = token_frame_text(token_frame_prefix(run_id), 41, delta)

    assert text == json.dumps(token_frame(run_id, 41, delta), separators=(",", ":"))
    assert RunToken.model_validate_json(text) == RunToken(run_id=run_id, seq=41, delta=delta)


def test_a_run_id_needing_escapes_is_escaped_in_the_prefix():
    text = token_frame_text(token_frame_prefix('odd"id'), 0, "x")

    assert json.loads(text) == {"type": "run.token", "run_id": 'odd"id', "seq": 0, "delta": "x"}
