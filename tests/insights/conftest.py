import pytest

from tests.challenges.support import AnsweringProvider
from tests.llm.runs_support import serving_test_model


@pytest.fixture
def provider() -> AnsweringProvider:
    """The challenges' test model, so that challenges can be created."""
    provider = AnsweringProvider()
    with serving_test_model(provider):
        yield provider
