"""llm-rubric checks: the configured judge model's PASS/FAIL verdict, outside anyone's history."""

import pytest

from llm.models import LLMRun
from tests.challenges.support import PROMPT, capital_answer, case, make_challenge
from tests.llm.runs_support import TEST_MODEL, response_json

pytestmark = [pytest.mark.django_db(transaction=True)]

RUBRIC = [{"type": "llm-rubric", "rubric": "The output names Paris."}]


def judge_or_capital(request):
    if request.prompt.startswith("Rubric:"):
        return ["PASS"] if "<output>\nParis\n</output>" in request.prompt else ["FAIL"]
    return capital_answer(request)


def test_the_judge_decides_rubric_checks(auth_client, user, provider, settings):
    settings.CHALLENGES_JUDGE_MODEL = TEST_MODEL
    provider.answer = judge_or_capital
    challenge = make_challenge(user, cases=[case("France", checks=RUBRIC), case("Peru", checks=RUBRIC)])

    body = response_json(auth_client.post(f"/api/v1/challenges/{challenge.slug}/attempts/", {"prompt": PROMPT}))

    checks = [item["samples"][0]["checks"] for item in body["cases"]]
    assert checks == [
        [{"type": "llm-rubric", "passed": True, "message": "the judge found the rubric met"}],
        [{"type": "llm-rubric", "passed": False, "message": "the judge found the rubric not met"}],
    ]
    judged = [request for request in provider.requests if request.prompt.startswith("Rubric:")]
    assert len(judged) == 2
    assert {(request.temperature, request.max_tokens) for request in judged} == {(0.0, 8)}
    assert "The output names Paris." in judged[0].prompt
    assert LLMRun.objects.count() == 2  # the case runs only: judging is not a run of the learner's


def test_without_a_judge_a_stored_rubric_check_fails_saying_so(auth_client, user, provider, settings):
    settings.CHALLENGES_JUDGE_MODEL = TEST_MODEL
    challenge = make_challenge(user, cases=[case("France", checks=RUBRIC)])
    settings.CHALLENGES_JUDGE_MODEL = ""

    body = response_json(auth_client.post(f"/api/v1/challenges/{challenge.slug}/attempts/", {"prompt": PROMPT}))

    assert body["cases"][0]["samples"][0]["checks"] == [
        {"type": "llm-rubric", "passed": False, "message": "no judge model is configured"}
    ]
