"""The built-in curriculum on the embedded models, graded by the app itself at temperature 0:
every reference prompt passes every case, public and hidden, and the task pasted as is (the
naive prompt) fails on at least a third of the challenges, so the curriculum needs what it teaches."""

import pytest
from channels.db import database_sync_to_async

from challenges import attempts, demo
from challenges.live import AttemptExecution
from challenges.models import Challenge
from llm import registry
from tests.llm.runs_support import set_credits

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


async def _graded(user, challenge: Challenge, prompt: str, system: str):
    started = await database_sync_to_async(attempts.attempt_create)(
        user=user, challenge=challenge.slug, prompt=prompt, system=system, params={"temperature": 0}
    )
    execution = AttemptExecution(started)
    execution.start()
    attempt = await execution.wait()
    assert attempt is not None and attempt.status == "completed", (challenge.slug, attempt and attempt.error_message)
    return attempt


def _failed_cases(attempt) -> list[str]:
    return sorted({sample.case_id for sample in attempt.samples.all() if not sample.passed})


async def test_reference_prompts_pass_and_naive_prompts_fail_on_the_embedded_models(make_user, settings):
    # Every case run of the whole curriculum, twice over, in one hour.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "100000/hour"},
    }
    settings.LLM_MAX_CONCURRENT_RUNS = 100
    user = await database_sync_to_async(make_user)("learner")
    await database_sync_to_async(set_credits)(user, 10**6)
    await database_sync_to_async(demo.load)()
    challenges = await database_sync_to_async(lambda: list(Challenge.objects.filter(builtin=True).order_by("slug")))()
    documents = {document["slug"]: document for _, document in demo.curriculum_documents()}
    assert set(documents) == {challenge.slug for challenge in challenges}
    for challenge in challenges:
        assert registry.model_get(challenge.default_model).id.startswith("local:"), challenge.slug

    reference_failures, naive_failed = {}, []
    for challenge in challenges:
        document = documents[challenge.slug]
        reference = await _graded(user, challenge, document["reference_prompt"], document.get("reference_system", ""))
        failed = await database_sync_to_async(_failed_cases)(reference)
        if failed:
            reference_failures[challenge.slug] = failed
        naive = await _graded(user, challenge, document["naive_prompt"], "")
        if not naive.passed or naive.pass_rate < 1:
            naive_failed.append(challenge.slug)

    assert reference_failures == {}
    assert len(naive_failed) * 3 >= len(challenges), naive_failed
