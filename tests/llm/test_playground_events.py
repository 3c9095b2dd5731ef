"""Playground message schemas: any client message parses or becomes one clear error."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm.events import InvalidMessage, RunCancel, RunResume, RunStart, parse_client_message

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
messages = st.builds(
    lambda kind, fields: {**fields, "type": kind},
    st.sampled_from(["run.start", "run.cancel", "run.resume", "run.other"]),
    st.dictionaries(
        st.sampled_from(["request_id", "model", "prompt", "template_id", "variables", "params", "run_id", "after_seq"]),
        json_values,
        max_size=5,
    ),
)


@given(content=messages)
def test_every_message_parses_or_is_refused_with_a_code_and_message(content):
    try:
        message = parse_client_message(content)
    except InvalidMessage as exc:
        assert exc.code in {"invalid_message", "unknown_type"}
        assert exc.message
    else:
        assert isinstance(message, RunStart | RunCancel | RunResume)


def test_a_start_parses_with_its_params():
    message = parse_client_message(
        {
            "type": "run.start",
            "request_id": "r",
            "model": "local:gemma-3-270m",
            "prompt": "Hi",
            "params": {"max_tokens": 5},
        }
    )

    assert message == RunStart(
        type="run.start", request_id="r", model="local:gemma-3-270m", prompt="Hi", params={"max_tokens": 5}
    )


@pytest.mark.parametrize(
    ("content", "code", "text"),
    [
        ({"type": "run.pause"}, "unknown_type", "Unknown message type 'run.pause'."),
        ({"type": "run.cancel"}, "invalid_message", "run_id: Field required"),
        ({"type": "run.resume", "run_id": "x", "after_seq": -2}, "invalid_message", "after_seq: Input should be"),
        ({"type": "run.start", "model": "m", "prompt": "p", "extra": 1}, "invalid_message", "extra: Extra inputs"),
        ({"type": "run.start", "model": "m"}, "invalid_message", "Give either prompt or template_id"),
        ({"type": "run.start", "model": "m", "prompt": "p", "variables": {}}, "invalid_message", "Variables go with"),
    ],
)
def test_bad_messages_name_what_is_wrong(content, code, text):
    with pytest.raises(InvalidMessage) as caught:
        parse_client_message(content)

    assert caught.value.code == code
    assert caught.value.message.startswith(text)
