import pytest

from tests.llm.runs_support import ScriptedProvider, serving_test_model


@pytest.fixture
def provider() -> ScriptedProvider:
    """A scripted in-process provider serving TEST_MODEL for the test."""
    provider = ScriptedProvider()
    with serving_test_model(provider):
        yield provider
