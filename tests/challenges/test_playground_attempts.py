"""`attempt.*` on /ws/playground/, end to end on the real ASGI application."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from challenges.models import Attempt
from game.models import CreditEntry
from llm.models import LLMRun
from tests.challenges.support import (
    ATTEMPT_END,
    PROMPT,
    attempt_start_frame,
    capital_answer,
    case,
    make_challenge,
    receive_until,
)
from tests.llm.runs_support import TEST_MODEL, playground, receive_until_end, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]

RAMBLE = ["I", " think", " the", " answer", " is", " probably", " somewhere", " in", " the", " middle", "."]


async def challenge_of(user, **overrides):
    return await database_sync_to_async(make_challenge)(user, **overrides)


async def attempt_row(attempt_id: str) -> Attempt:
    return await database_sync_to_async(Attempt.objects.get)(pk=attempt_id)


async def settled(attempt_id: str, timeout: float = 5) -> Attempt:
    """The attempt once it has settled (it settles on its own after its socket is gone)."""
    for _ in range(int(timeout / 0.05)):
        attempt = await attempt_row(attempt_id)
        if attempt.status != "running":
            return attempt
        await asyncio.sleep(0.05)
    raise AssertionError("the attempt did not settle")


def ledger(attempt_id: str) -> dict[str, int]:
    entries = CreditEntry.objects.filter(idempotency_key__startswith=f"attempt:{attempt_id}:")
    return {entry.reason: entry.delta for entry in entries}


async def test_an_attempt_streams_public_cases_grades_each_and_completes(user, provider):
    challenge = await challenge_of(None, builtin=True)
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    started, completed = frames[0], frames[-1]
    attempt_id = started["attempt_id"]
    assert started == {
        "type": "attempt.started",
        "attempt_id": attempt_id,
        "request_id": "a1",
        "challenge": challenge.slug,
        "model": TEST_MODEL,
        "samples": 1,
        "cases": [{"id": "c1", "hidden": False}, {"id": "c2", "hidden": False}, {"id": "c3", "hidden": True}],
    }
    runs = [frame for frame in frames if frame["type"].startswith("run.")]
    assert {(frame["type"], frame["case_id"]) for frame in runs} == {
        (kind, case_id) for kind in ("run.started", "run.token", "run.completed") for case_id in ("c1", "c2")
    }
    assert {frame["attempt_id"] for frame in runs} == {attempt_id}
    completed_runs = {frame["case_id"]: frame["output"] for frame in runs if frame["type"] == "run.completed"}
    assert completed_runs == {"c1": "Paris", "c2": "Rome"}
    graded = [frame for frame in frames if frame["type"] == "attempt.case"]
    assert sorted(frame["case_id"] for frame in graded) == ["c1", "c2", "c3"]
    hidden = next(frame for frame in graded if frame["case_id"] == "c3")
    assert hidden == {
        "type": "attempt.case",
        "attempt_id": attempt_id,
        "case_id": "c3",
        "sample": 0,
        "passed": True,
        "stopped_early": False,
    }
    text = json.dumps(frames)
    assert "Japan" not in text and "Tokyo" not in text and "tokyo" not in text
    assert completed["type"] == "attempt.completed"
    assert (completed["passed"], completed["pass_rate"], completed["score"], completed["best"]) == (
        True,
        1.0,
        1000,
        True,
    )
    assert completed["cost_credits"] == 18 and completed["xp_awarded"] == 20  # a first beginner pass
    assert completed["prompt_tokens"] == (await attempt_row(attempt_id)).prompt_tokens > 0


async def test_a_sample_failing_a_check_on_its_streamed_prefix_is_stopped_upstream(user, provider):
    provider.answer = lambda request: RAMBLE if "France" in request.prompt else capital_answer(request)
    provider.delay = 0.03
    not_think = [{"type": "not-contains", "value": "think"}]
    challenge = await challenge_of(
        user,
        cases=[case("France", checks=not_think), case("Italy"), case("Japan", hidden=True)],
        params={"max_tokens": 16},
    )
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    stopped = next(f for f in frames if f["type"] == "attempt.case" and f["case_id"] == "c1")
    assert stopped["passed"] is False and stopped["stopped_early"] is True
    assert stopped["checks"] == [
        {"type": "not-contains", "passed": False, "message": 'expected the output not to contain "think"'}
    ]
    ended = next(f for f in frames if f["type"] == "run.cancelled" and f["case_id"] == "c1")
    assert ended["output"].startswith("I think") and len(ended["output"]) < len("".join(RAMBLE))
    assert provider.closed_early == 1
    france = next(i for i, request in enumerate(provider.requests) if "France" in request.prompt)
    assert provider.sent[france] < len(RAMBLE)
    # Charged only for what it used: the estimated prompt and the deltas it produced.
    run = await database_sync_to_async(LLMRun.objects.get)(prompt="Capital of France? One word.")
    assert (run.status, run.output_tokens) == ("cancelled", provider.sent[france])
    assert run.cost_credits == 26 + provider.sent[france] < run.reserved_credits
    completed = frames[-1]
    assert (completed["type"], completed["passed"], completed["pass_rate"]) == ("attempt.completed", False, 2 / 3)


async def test_a_hidden_case_stopped_early_sends_no_frame_of_its_run(user, provider):
    provider.answer = lambda request: RAMBLE if "Japan" in request.prompt else capital_answer(request)
    provider.delay = 0.02
    challenge = await challenge_of(
        user, cases=[case("France"), case("Japan", hidden=True, checks=[{"type": "word-count", "max": 2}])]
    )
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert not [f for f in frames if f.get("case_id") == "c2" and f["type"] != "attempt.case"]
    hidden = next(f for f in frames if f["type"] == "attempt.case" and f["case_id"] == "c2")
    assert hidden == {
        "type": "attempt.case",
        "attempt_id": frames[0]["attempt_id"],
        "case_id": "c2",
        "sample": 0,
        "passed": False,
        "stopped_early": True,
    }
    assert "think" not in json.dumps(frames)
    assert provider.closed_early == 1


async def test_cancel_stops_the_runs_upstream_and_refunds_what_they_did_not_use(user, provider):
    provider.gate = asyncio.Event()  # every run waits: nothing is produced before the cancel
    challenge = await challenge_of(user)
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        started = await ws.receive_json_from(timeout=5)
        await receive_until(ws, {"run.started"})
        await ws.send_json_to({"type": "attempt.cancel", "attempt_id": started["attempt_id"]})
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert frames[-1] == {"type": "attempt.cancelled", "attempt_id": started["attempt_id"], "cost_credits": 0}
    assert not [f for f in frames if f["type"] == "attempt.case"]
    attempt = await attempt_row(started["attempt_id"])
    assert (attempt.status, attempt.cost_credits, attempt.score) == ("cancelled", 0, 0)
    entries = await database_sync_to_async(ledger)(started["attempt_id"])
    assert entries["attempt.reserve"] + entries["attempt.refund"] == 0
    assert provider.closed_early == len(provider.requests) >= 1


async def test_closing_the_socket_cancels_its_attempt(user, provider):
    provider.gate = asyncio.Event()
    challenge = await challenge_of(user)
    ws = await playground(user)
    await ws.send_json_to(attempt_start_frame(challenge.slug))
    started = await ws.receive_json_from(timeout=5)
    await receive_until(ws, {"run.started"})

    await ws.disconnect()
    attempt = await settled(started["attempt_id"])

    assert (attempt.status, attempt.cost_credits) == ("cancelled", 0)
    assert provider.closed_early == len(provider.requests)


async def test_case_runs_go_a_few_at_a_time(user, provider, settings):
    settings.CHALLENGES_ATTEMPT_PARALLEL = 2
    provider.delay = 0.05
    challenge = await challenge_of(user, cases=[case(c) for c in ("France", "Italy", "Japan", "Peru")])
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert frames[-1]["type"] == "attempt.completed" and frames[-1]["passed"] is True
    assert provider.most_active == 2 and len(provider.requests) == 4


@pytest.mark.parametrize(
    ("frame", "code", "message"),
    [
        (attempt_start_frame("no-such-thing"), "unknown_challenge", "No such challenge."),
        (
            attempt_start_frame("{slug}", prompt="Capital?"),
            "invalid_request",
            "The prompt must use every variable: {{country}}.",
        ),
        (
            attempt_start_frame("{slug}", model="x:y"),
            "invalid_request",
            "Model 'x:y' is not allowed here; use one of: test:echo.",
        ),
        (
            {"type": "attempt.start", "request_id": "a1", "challenge": "{slug}"},
            "invalid_message",
            "prompt: Field required",
        ),
        (
            {"type": "attempt.start", "request_id": "a1", "challenge": "{slug}", "prompt": 5},
            "invalid_message",
            "prompt: Input should be a valid string",
        ),
        ({"type": "attempt.stop", "request_id": "a1"}, "unknown_type", "Unknown message type 'attempt.stop'."),
        ({"type": "attempt.cancel", "attempt_id": "nope"}, "unknown_attempt", "No such attempt of yours is running."),
    ],
)
async def test_bad_attempt_messages_get_an_error_and_charge_nothing(user, provider, frame, code, message):
    challenge = await challenge_of(user)
    frame = json.loads(json.dumps(frame).replace("{slug}", challenge.slug))
    ws = await playground(user)
    try:
        await ws.send_json_to(frame)
        error = await ws.receive_json_from(timeout=5)
        assert await ws.receive_nothing(timeout=0.2)
    finally:
        await ws.disconnect()

    assert (error["type"], error["code"], error["message"]) == ("error", code, message)
    assert not await database_sync_to_async(Attempt.objects.exists)()
    assert provider.requests == []


async def test_an_attempt_the_balance_cannot_cover_is_an_error_charging_nothing(user, provider):
    challenge = await challenge_of(user)
    await database_sync_to_async(set_credits)(user, 10)
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        error = await ws.receive_json_from(timeout=5)
    finally:
        await ws.disconnect()

    attempt = await database_sync_to_async(Attempt.objects.get)()
    assert error["type"] == "error" and error["code"] == "insufficient_credits"
    assert (error["request_id"], error["attempt_id"]) == ("a1", str(attempt.pk))
    await database_sync_to_async(user.refresh_from_db)()
    assert user.credits == 10 and provider.requests == []


async def test_any_of_your_sockets_on_the_process_can_cancel_an_attempt(user, provider):
    provider.gate = asyncio.Event()
    challenge = await challenge_of(user)
    starter, other = await playground(user), await playground(user)
    try:
        await starter.send_json_to(attempt_start_frame(challenge.slug))
        started = await starter.receive_json_from(timeout=5)
        await receive_until(starter, {"run.started"})
        await other.send_json_to({"type": "attempt.cancel", "attempt_id": started["attempt_id"]})
        heard = await receive_until(other, ATTEMPT_END)
        ended = await receive_until(starter, ATTEMPT_END)
    finally:
        await starter.disconnect()
        await other.disconnect()

    cancelled = {"type": "attempt.cancelled", "attempt_id": started["attempt_id"], "cost_credits": 0}
    assert heard == [cancelled]  # no run frames of the attempt, only its end
    assert ended[-1] == cancelled
    assert (await attempt_row(started["attempt_id"])).status == "cancelled"
    assert provider.closed_early == len(provider.requests) >= 1


async def test_a_cancel_heard_on_another_process_goes_through_redis_to_the_one_running_it(user, provider):
    from challenges.live import live_attempts
    from llm import streams

    if not streams.enabled():
        pytest.skip("needs REDIS_URL")
    provider.gate = asyncio.Event()
    challenge = await challenge_of(user)
    starter, other = await playground(user), await playground(user)
    try:
        await starter.send_json_to(attempt_start_frame(challenge.slug))
        started = await starter.receive_json_from(timeout=5)
        await receive_until(starter, {"run.started"})
        # As a socket of another process sees it: not live here, running in the database.
        live_attempts.pop(started["attempt_id"])
        await other.send_json_to({"type": "attempt.cancel", "attempt_id": started["attempt_id"]})
        heard = await other.receive_json_from(timeout=5)
        ended = await receive_until(starter, ATTEMPT_END)
    finally:
        await starter.disconnect()
        await other.disconnect()

    cancelled = {"type": "attempt.cancelled", "attempt_id": started["attempt_id"], "cost_credits": 0}
    assert heard == ended[-1] == cancelled
    assert (await attempt_row(started["attempt_id"])).status == "cancelled"


async def test_a_cancel_nobody_running_the_attempt_hears_ends_in_a_timeout_error(user, provider, monkeypatch):
    from challenges import attempts, consumers
    from llm import streams

    if not streams.enabled():
        pytest.skip("needs REDIS_URL")
    monkeypatch.setattr(consumers, "CANCEL_ELSEWHERE_WAIT_SECONDS", 0.3)
    challenge = await challenge_of(user)
    # Running in the database, live nowhere: its process died.
    started = await database_sync_to_async(attempts.attempt_create)(user=user, challenge=challenge.slug, prompt=PROMPT)
    attempt_id = str(started.attempt.pk)
    ws = await playground(user)
    try:
        await ws.send_json_to({"type": "attempt.cancel", "attempt_id": attempt_id})
        error = await ws.receive_json_from(timeout=5)
    finally:
        await ws.disconnect()

    assert (error["type"], error["code"], error["attempt_id"]) == ("error", "timeout", attempt_id)
    assert (await attempt_row(attempt_id)).status == "running"


async def test_a_cancel_for_an_attempt_that_ended_or_is_not_yours_is_unknown(user, make_user, provider):
    challenge = await challenge_of(user)
    mallory = await database_sync_to_async(make_user)("mallory")
    mine, theirs = await playground(user), await playground(mallory)
    try:
        await mine.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(mine, ATTEMPT_END)
        attempt_id = frames[0]["attempt_id"]
        await mine.send_json_to({"type": "attempt.cancel", "attempt_id": attempt_id})
        ended = await mine.receive_json_from(timeout=5)
        await theirs.send_json_to({"type": "attempt.cancel", "attempt_id": attempt_id})
        foreign = await theirs.receive_json_from(timeout=5)
    finally:
        await mine.disconnect()
        await theirs.disconnect()

    assert (ended["code"], foreign["code"]) == ("unknown_attempt", "unknown_attempt")


async def test_another_users_attempt_cannot_be_cancelled(user, make_user, provider):
    provider.gate = asyncio.Event()
    challenge = await challenge_of(user)
    mallory = await database_sync_to_async(make_user)("mallory")
    mine, theirs = await playground(user), await playground(mallory)
    try:
        await mine.send_json_to(attempt_start_frame(challenge.slug))
        started = await mine.receive_json_from(timeout=5)
        await theirs.send_json_to({"type": "attempt.cancel", "attempt_id": started["attempt_id"]})
        refused = await theirs.receive_json_from(timeout=5)
        provider.gate.set()
        frames = await receive_until(mine, ATTEMPT_END)
    finally:
        await mine.disconnect()
        await theirs.disconnect()

    assert refused["code"] == "unknown_attempt"
    assert frames[-1]["type"] == "attempt.completed"


async def test_runs_still_work_on_the_same_socket(user, provider):
    ws = await playground(user)
    try:
        await ws.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Peru?"})
        started = await ws.receive_json_from(timeout=5)
        frames = await receive_until_end(ws, started["run_id"])
    finally:
        await ws.disconnect()

    assert frames[-1]["type"] == "run.completed" and frames[-1]["output"] == "Lima"


async def test_a_provider_failure_fails_the_attempt_and_charges_only_what_was_used(user, provider):
    from llm.providers.base import ProviderError

    def answer(request):
        if "Italy" in request.prompt:
            raise ProviderError("provider_error", "upstream broke")
        return capital_answer(request)

    provider.answer = answer
    challenge = await challenge_of(user, cases=[case("France"), case("Italy")])
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    failed = frames[-1]
    assert failed["type"] == "attempt.failed"
    assert failed["error"] == {"code": "provider_error", "message": "upstream broke"}
    attempt = await attempt_row(failed["attempt_id"])
    assert (attempt.status, attempt.score, attempt.passed) == ("failed", 0, False)
    assert attempt.cost_credits == failed["cost_credits"] <= 6


async def test_a_hidden_cases_failure_does_not_say_what_it_was(user, provider):
    from llm.providers.base import ProviderError

    def answer(request):
        if "Japan" in request.prompt:
            raise ProviderError("provider_error", "could not read 'Japan'")
        return capital_answer(request)

    provider.answer = answer
    challenge = await challenge_of(user)
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert frames[-1]["error"] == {"code": "provider_error", "message": "A hidden case's run failed."}
    assert "Japan" not in json.dumps(frames)


async def active_streams(provider, count: int, timeout: float = 5) -> None:
    for _ in range(int(timeout / 0.01)):
        if provider.active >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{provider.active} streams, expected {count}")


async def test_an_attempt_holds_one_run_slot_and_streams_all_its_cases_at_once(user, provider, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 2
    provider.gate = asyncio.Event()
    challenge = await challenge_of(user, cases=[case(c) for c in ("France", "Italy", "Japan", "Peru")])
    # Another of the user's runs holds one of the two slots; the attempt takes the other.
    held = await database_sync_to_async(LLMRun.objects.create)(user=user, model=TEST_MODEL, prompt="busy")
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        await active_streams(provider, 4)
        await ws.send_json_to({"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": "Peru?"})
        refused = await receive_until(ws, {"run.failed"})
        provider.gate.set()
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert refused[-1]["request_id"] == "r1" and refused[-1]["error"]["code"] == "concurrency_limit"
    assert frames[-1]["type"] == "attempt.completed" and frames[-1]["passed"] is True
    assert provider.most_active == 4 and len(provider.requests) == 4
    assert (await database_sync_to_async(LLMRun.objects.get)(pk=held.pk)).status == "running"


async def test_an_attempt_runs_up_to_ten_case_samples_at_once_by_default(user, provider):
    provider.gate = asyncio.Event()
    countries = ["France", "Italy", "Japan", "Peru"] * 3
    challenge = await challenge_of(user, cases=[case(c) for c in countries])
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        await active_streams(provider, 10)
        await asyncio.sleep(0.2)
        waiting = provider.active
        provider.gate.set()
        frames = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert waiting == provider.most_active == 10
    assert frames[-1]["type"] == "attempt.completed" and len(provider.requests) == 12


async def test_an_attempt_when_every_run_slot_is_taken_is_refused_and_writes_nothing(user, provider, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    challenge = await challenge_of(user)
    await database_sync_to_async(LLMRun.objects.create)(user=user, model=TEST_MODEL, prompt="busy")
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        error = await ws.receive_json_from(timeout=5)
    finally:
        await ws.disconnect()

    assert (error["type"], error["code"], error["request_id"]) == ("error", "concurrency_limit", "a1")
    assert not await database_sync_to_async(Attempt.objects.exists)()
    await database_sync_to_async(user.refresh_from_db)()
    assert user.credits == 1000 and provider.requests == []


async def test_a_settled_attempt_frees_its_run_slot(user, provider, settings):
    settings.LLM_MAX_CONCURRENT_RUNS = 1
    challenge = await challenge_of(user)
    ws = await playground(user)
    try:
        await ws.send_json_to(attempt_start_frame(challenge.slug))
        first = await receive_until(ws, ATTEMPT_END)
        await ws.send_json_to(attempt_start_frame(challenge.slug, request_id="a2"))
        second = await receive_until(ws, ATTEMPT_END)
    finally:
        await ws.disconnect()

    assert first[-1]["type"] == second[-1]["type"] == "attempt.completed"
