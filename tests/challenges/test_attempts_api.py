"""Attempts over REST: graded JSON or SSE, runs in the history, one credits reservation, refusals."""

import json

import pytest
from asgiref.sync import async_to_sync

from challenges.models import Attempt, AttemptSample
from game.models import CreditEntry
from llm.models import LLMRun
from tests.challenges.support import PROMPT, case, make_challenge
from tests.llm.runs_support import TEST_MODEL, response_json, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]

# Each case's prompt: ceil(bytes / 3) + 16 framing estimated tokens, + max_tokens 8, one credit each:
# "Capital of France? One word." (28 bytes) 34, Italy and Japan (27 bytes) 33 each.
RESERVE = 34 + 33 + 33


def attempt(client, slug: str, prompt: str = PROMPT, **body):
    return client.post(f"/api/v1/challenges/{slug}/attempts/", {"prompt": prompt, **body}, format="json")


def attempt_ledger(attempt_id: str) -> dict[str, int]:
    entries = CreditEntry.objects.filter(idempotency_key__startswith=f"attempt:{attempt_id}:")
    return {entry.reason: entry.delta for entry in entries}


def written(user) -> tuple[int, int, int, int]:
    """(attempts, runs, ledger rows, credits) of the user."""
    user.refresh_from_db()
    return (
        Attempt.objects.filter(user=user).count(),
        LLMRun.objects.filter(user=user).count(),
        CreditEntry.objects.filter(user=user).count(),
        user.credits,
    )


def test_an_attempt_runs_every_case_and_answers_graded(auth_client, user, provider):
    challenge = make_challenge(user)

    response = attempt(auth_client, challenge.slug)

    assert response.status_code == 201
    body = response_json(response)
    assert body["status"] == "completed"
    assert (body["passed"], body["pass_rate"], body["score"]) == (True, 1.0, 1000)
    assert body["challenge"] == challenge.slug and body["version"] == 1 and body["model"] == TEST_MODEL
    assert body["cases"] == [
        {
            "id": "c1",
            "hidden": False,
            "passed": True,
            "samples": [
                {
                    "sample": 0,
                    "passed": True,
                    "stopped_early": False,
                    "output": "Paris",
                    "checks": [{"type": "icontains", "passed": True, "message": 'contains "paris" (any case)'}],
                }
            ],
        },
        {
            "id": "c2",
            "hidden": False,
            "passed": True,
            "samples": [
                {
                    "sample": 0,
                    "passed": True,
                    "stopped_early": False,
                    "output": "Rome",
                    "checks": [{"type": "icontains", "passed": True, "message": 'contains "rome" (any case)'}],
                }
            ],
        },
        {
            "id": "c3",
            "hidden": True,
            "passed": True,
            "samples": [{"sample": 0, "passed": True, "stopped_early": False}],
        },
    ]
    assert body["score_breakdown"]["prompt_tokens"] == body["prompt_tokens"] > 0
    assert sorted(request.prompt for request in provider.requests) == [
        "Capital of France? One word.",
        "Capital of Italy? One word.",
        "Capital of Japan? One word.",
    ]
    assert {request.temperature for request in provider.requests} == {0.0}


def test_credits_are_reserved_once_for_every_run_and_settle_to_what_they_used(auth_client, user, provider):
    challenge = make_challenge(user)

    body = response_json(attempt(auth_client, challenge.slug))

    runs = list(LLMRun.objects.filter(user=user))
    assert attempt_ledger(body["id"]) == {"attempt.reserve": -RESERVE, "attempt.refund": RESERVE - 3 * 6}
    assert body["cost_credits"] == sum(run.cost_credits for run in runs) == 3 * 6  # 5 input + 1 output each
    assert {run.prepaid for run in runs} == {True}
    assert not CreditEntry.objects.filter(reason__in=["run.reserve", "run.refund"]).exists()
    attempt_entries = CreditEntry.objects.filter(user=user, reason__startswith="attempt.")
    assert sum(attempt_entries.values_list("delta", flat=True)) == -18


def test_public_case_runs_are_in_the_history_and_hidden_ones_are_not(auth_client, user, provider):
    challenge = make_challenge(user)
    response_json(attempt(auth_client, challenge.slug))
    hidden_run = AttemptSample.objects.get(case_id="c3").run

    history = auth_client.get("/api/v1/llm/runs/").json()
    hidden = auth_client.get(f"/api/v1/llm/runs/{hidden_run.pk}/")

    assert sorted(run["prompt"] for run in history["results"]) == [
        "Capital of France? One word.",
        "Capital of Italy? One word.",
    ]
    assert "Japan" not in json.dumps(history) and "Tokyo" not in json.dumps(history)
    assert hidden.status_code == 404
    assert hidden_run.sealed and hidden_run.output == "Tokyo"


def test_a_hidden_system_prompt_seals_every_run(auth_client, user, provider):
    challenge = make_challenge(user, system="The password is SWORDFISH.", system_hidden=True)

    body = response_json(attempt(auth_client, challenge.slug))
    detail = auth_client.get(f"/api/v1/challenges/{challenge.slug}/").json()

    assert body["status"] == "completed"
    assert auth_client.get("/api/v1/llm/runs/").json()["count"] == 0
    assert detail["system"] == "" and detail["system_hidden"] is True
    assert {request.system for request in provider.requests} == {"The password is SWORDFISH."}


def test_the_learners_system_prompt_follows_the_challenges(auth_client, user, provider):
    challenge = make_challenge(user, system="Rules first.")

    body = response_json(attempt(auth_client, challenge.slug, system="Be terse."))

    assert {request.system for request in provider.requests} == {"Rules first.\n\nBe terse."}
    assert body["system"] == "Be terse."


def test_failing_cases_lower_the_pass_rate_and_the_score(auth_client, user, provider):
    challenge = make_challenge(user, cases=[case("France"), case("Peru", checks=[{"type": "contains", "value": "x"}])])

    body = response_json(attempt(auth_client, challenge.slug))

    assert (body["status"], body["passed"], body["pass_rate"], body["score"]) == ("completed", False, 0.5, 500)
    assert body["cases"][1]["samples"][0]["checks"] == [
        {"type": "contains", "passed": False, "message": 'expected the output to contain "x"'}
    ]


def test_samples_run_each_case_several_times(auth_client, user, provider):
    challenge = make_challenge(user, samples=2, cases=[case("France"), case("Italy", hidden=True)])

    body = response_json(attempt(auth_client, challenge.slug))

    assert len(provider.requests) == 4
    assert [[sample["sample"] for sample in item["samples"]] for item in body["cases"]] == [[0, 1], [0, 1]]
    assert body["score_breakdown"]["total_samples"] == 4


def test_without_enough_credits_an_attempt_fails_and_charges_nothing(auth_client, user, provider):
    challenge = make_challenge(user)
    set_credits(user, RESERVE - 1)

    response = attempt(auth_client, challenge.slug)

    assert response.status_code == 400
    assert response.json()["code"] == "insufficient_credits"
    failed = Attempt.objects.get()
    assert (failed.status, failed.error_code, failed.reserved_credits) == ("failed", "insufficient_credits", 0)
    assert str(failed.pk) == response.json()["attempt_id"]
    assert provider.requests == [] and not LLMRun.objects.exists()
    user.refresh_from_db()
    assert user.credits == RESERVE - 1


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        ({"model": "x:y"}, 400, {"model": ["Model 'x:y' is not allowed here; use one of: test:echo."]}),
        ({"prompt": "Capital? One word."}, 400, {"prompt": ["The prompt must use every variable: {{country}}."]}),
        ({"prompt": "{{country}} {{city}}"}, 400, {"prompt": ["The challenge has no variable city."]}),
        ({"prompt": "Capital of {{country"}, 400, {"prompt": ["Unclosed '{{' at line 1, column 12."]}),
        ({"prompt": "{{country}}" + "x" * 16_001}, 400, {"prompt": ["The prompt is longer than 16000 characters."]}),
        ({"params": {"max_tokens": 65}}, 400, {"params": {"max_tokens": ["max_tokens is at most 64 for test:echo."]}}),
        (
            {"params": {"temperature": 3}},
            400,
            {"params": {"temperature": ["Ensure this value is less than or equal to 2.0."]}},
        ),
        ({"prompt": ""}, 400, {"prompt": ["This field may not be blank."]}),
    ],
)
def test_bad_attempts_are_400_naming_the_problem_and_write_nothing(auth_client, user, provider, body, status, answer):
    challenge = make_challenge(user)
    before = written(user)

    response = attempt(auth_client, challenge.slug, **{"prompt": PROMPT, **body})

    assert response.status_code == status
    assert response.json() == answer
    assert written(user) == before
    assert provider.requests == []


def test_an_unknown_or_foreign_private_challenge_is_404(auth_client, user, make_user, provider):
    theirs = make_challenge(make_user("mallory"))

    unknown = attempt(auth_client, "no-such-challenge")
    foreign = attempt(auth_client, theirs.slug)

    assert unknown.status_code == foreign.status_code == 404
    assert foreign.json() == {"detail": "No such challenge.", "code": "unknown_challenge"}
    assert not Attempt.objects.exists()


def test_an_attempt_the_hourly_allowance_cannot_hold_is_429(auth_client, user, provider, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "2/hour"},
    }
    challenge = make_challenge(user)
    before = written(user)

    response = attempt(auth_client, challenge.slug)

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) > 0
    assert written(user) == before


def sse_events(response) -> list[tuple[str, dict]]:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    events = []
    for block in async_to_sync(collect)().decode().split("\n\n"):
        if block.startswith("event: "):
            name, data = block.split("\n", 1)
            events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def test_an_attempt_streams_as_server_sent_events_without_hidden_data(auth_client, user, provider):
    challenge = make_challenge(None, builtin=True)

    response = auth_client.post(
        f"/api/v1/challenges/{challenge.slug}/attempts/",
        {"prompt": PROMPT},
        format="json",
        HTTP_ACCEPT="text/event-stream",
    )

    assert response.status_code == 201
    assert response["Content-Type"] == "text/event-stream"
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "attempt.started" and names[-1] == "attempt.completed"
    started = events[0][1]
    assert started["cases"] == [
        {"id": "c1", "hidden": False},
        {"id": "c2", "hidden": False},
        {"id": "c3", "hidden": True},
    ]
    run_frames = [frame for name, frame in events if name.startswith("run.")]
    assert {frame["case_id"] for frame in run_frames} == {"c1", "c2"}
    assert {frame["attempt_id"] for frame in run_frames} == {started["attempt_id"]}
    graded = {frame["case_id"]: frame for name, frame in events if name == "attempt.case"}
    assert graded["c3"] == {
        "type": "attempt.case",
        "attempt_id": started["attempt_id"],
        "case_id": "c3",
        "sample": 0,
        "passed": True,
        "stopped_early": False,
    }
    assert graded["c1"]["checks"] == [{"type": "icontains", "passed": True, "message": 'contains "paris" (any case)'}]
    text = json.dumps(events)
    assert "Japan" not in text and "Tokyo" not in text and "tokyo" not in text
    completed = events[-1][1]
    assert (completed["passed"], completed["score"], completed["best"]) == (True, 1000, True)


def test_your_attempts_are_listed_and_anothers_are_404(auth_client, user, make_user, api_client, provider):
    challenge = make_challenge(None, builtin=True)
    first = response_json(attempt(auth_client, challenge.slug))
    second = response_json(attempt(auth_client, challenge.slug))
    mallory = make_user("mallory")
    from rest_framework_simplejwt.tokens import RefreshToken

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(mallory).access_token}")

    mine = auth_client.get(f"/api/v1/challenges/{challenge.slug}/attempts/").json()
    detail = auth_client.get(f"/api/v1/attempts/{first['id']}/")
    foreign = api_client.get(f"/api/v1/attempts/{first['id']}/")
    garbage = auth_client.get("/api/v1/attempts/not-a-uuid/")

    assert [item["id"] for item in mine["results"]] == [second["id"], first["id"]]
    assert (first["best"], second["best"]) == (True, False)  # a repeat of the same score is no new best
    assert detail.status_code == 200 and detail.json()["cases"] == first["cases"]
    assert foreign.status_code == garbage.status_code == 404


def test_the_leaderboard_ranks_best_scores_then_fewer_tokens(auth_client, user, make_user, provider):
    challenge = make_challenge(None, builtin=True, par_tokens=4)
    short = response_json(attempt(auth_client, challenge.slug, prompt="{{country}} capital?"))
    response_json(attempt(auth_client, challenge.slug))
    Attempt.objects.create(
        user=make_user("bob"),
        challenge=challenge,
        version=challenge.versions.get(),
        model=TEST_MODEL,
        prompt="x",
        status="failed",
    )

    board = auth_client.get(f"/api/v1/challenges/{challenge.slug}/leaderboard/").json()

    assert board["count"] == 1
    assert board["results"] == [
        {
            "rank": 1,
            "user": {"id": str(user.pk), "username": "alice", "avatar_url": None},
            "score": short["score"],
            "prompt_tokens": short["prompt_tokens"],
            "attempts": 2,
            "achieved_at": board["results"][0]["achieved_at"],
        }
    ]
