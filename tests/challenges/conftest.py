import pytest

from tests.challenges.support import AnsweringProvider
from tests.llm.runs_support import serving_test_model, set_credits


@pytest.fixture
def provider() -> AnsweringProvider:
    """An in-process provider answering each case by its prompt, serving TEST_MODEL for the test."""
    provider = AnsweringProvider()
    with serving_test_model(provider):
        yield provider


@pytest.fixture
def staff(make_user):
    user = make_user("staffer")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def user(make_user):
    """alice, with 1,000 credits: the test model charges one credit per token, so attempts cost ~100."""
    alice = make_user("alice")
    set_credits(alice, 1000)
    return alice
