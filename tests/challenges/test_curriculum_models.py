"""The built-in curriculum on the embedded models, graded by the app itself at temperature 0:
every reference prompt passes every case, public and hidden, and the task pasted as is (the
naive prompt) fails on at least a third of the challenges, so the curriculum needs what it teaches."""

import pytest
from channels.db import database_sync_to_async

from challenges import attempts, demo
from challenges.live import AttemptExecution
from challenges.models import Attempt, Challenge
from tests.llm.runs_support import set_credits

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DOCUMENTS = {document["slug"]: document for _, document in demo.curriculum_documents()}


@pytest.fixture
def learner(make_user, settings):
    # Every case run of the curriculum in one hour, a few attempts at once.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "100000/hour"},
    }
    demo.load()
    user = make_user("learner")
    set_credits(user, 10**6)
    return user


async def _graded(user, slug: str, prompt: str, system: str) -> Attempt:
    started = await database_sync_to_async(attempts.attempt_create)(
        user=user, challenge=slug, prompt=prompt, system=system, params={"temperature": 0}
    )
    execution = AttemptExecution(started)
    execution.start()
    attempt = await execution.wait()
    assert attempt is not None and attempt.status == "completed", (slug, attempt and attempt.error_message)
    return attempt


def _failed_cases(attempt: Attempt) -> list[str]:
    return sorted({sample.case_id for sample in attempt.samples.all() if not sample.passed})


@pytest.mark.timeout(240)
@pytest.mark.parametrize("slug", sorted(DOCUMENTS))
async def test_the_reference_prompt_passes_every_case_on_its_default_embedded_model(learner, slug):
    document = DOCUMENTS[slug]
    challenge = await database_sync_to_async(Challenge.objects.get)(slug=slug, builtin=True)
    assert challenge.default_model.startswith("local:")

    attempt = await _graded(learner, slug, document["reference_prompt"], document.get("reference_system", ""))

    assert await database_sync_to_async(_failed_cases)(attempt) == []
    assert attempt.passed and attempt.pass_rate == 1


@pytest.mark.timeout(900)
async def test_naive_prompts_fail_on_at_least_a_third_of_the_challenges(learner):
    needed = -(-len(DOCUMENTS) // 3)
    failed: list[str] = []
    for slug, document in sorted(DOCUMENTS.items()):  # until a third have failed: the rest cannot change it
        attempt = await _graded(learner, slug, document["naive_prompt"], "")
        if attempt.pass_rate < 1:
            failed.append(slug)
        if len(failed) >= needed:
            break

    assert len(failed) >= needed, failed
