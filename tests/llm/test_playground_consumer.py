"""/ws/playground/ end to end on the real ASGI application, with an in-process scripted provider."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from llm import streams
from llm.events import RunToken, run_stream_key
from llm.models import LLMRun
from llm.providers.base import Usage
from tests.llm.runs_support import (
    TEST_MODEL,
    joined_tokens,
    playground,
    receive_until_end,
    run_ledger,
    set_credits,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

# "Say hi" is 6 bytes: ceil(6/3) + 16 framing = 18 estimated input tokens; default max_tokens 16.
RESERVED_FOR_SAY_HI = 18 + 16


def start(request_id="r1", prompt="Say hi", **extra):
    return {"type": "run.start", "request_id": request_id, "model": TEST_MODEL, "prompt": prompt, **extra}


async def balance(user) -> int:
    await database_sync_to_async(user.refresh_from_db)()
    return user.credits


async def test_run_streams_tokens_in_order_and_completes_with_usage_and_cost(user, provider):
    ws = await playground(user)
    try:
        await ws.send_json_to(start())
        started = await ws.receive_json_from(timeout=5)
        run_id = started["run_id"]
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    assert started == {"type": "run.started", "run_id": run_id, "request_id": "r1", "model": TEST_MODEL}
    seqs, text = joined_tokens(frames, run_id)
    assert seqs == list(range(len(seqs)))
    assert text == "Hello, world!"
    for frame in frames[:-1]:
        RunToken.model_validate(frame)
    completed = frames[-1]
    assert completed["type"] == "run.completed"
    assert completed["output"] == "Hello, world!"
    assert completed["usage"] == {"input_tokens": 7, "output_tokens": 4}
    assert completed["cost_credits"] == 11
    assert set(completed) == {"type", "run_id", "output", "usage", "cost_credits", "ttft_ms", "latency_ms"}
    assert await database_sync_to_async(run_ledger)(run_id) == {"run.reserve": -RESERVED_FOR_SAY_HI, "run.refund": 23}
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.output, run.reserved_credits, run.cost_credits) == (
        "completed",
        "Hello, world!",
        RESERVED_FOR_SAY_HI,
        11,
    )
    assert provider.requests[0].prompt == "Say hi"
    assert provider.requests[0].max_tokens == 16


async def test_a_finished_runs_stream_keeps_every_frame_for_the_stream_ttl(user, provider, settings):
    # given a short stream TTL
    settings.LLM_STREAM_TTL_SECONDS = 40
    ws = await playground(user)
    try:
        # when a run streams to its end
        await ws.send_json_to(start())
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    # then Redis holds exactly the frames sent, expiring within the TTL of the last one
    await streams.flush()
    redis = streams.client()
    stored = await redis.xrange(run_stream_key(run_id))
    assert [json.loads(fields[b"f"]) for _, fields in stored] == frames
    assert 30 < await redis.ttl(run_stream_key(run_id)) <= 40


async def test_fast_tokens_are_coalesced_and_the_first_goes_out_alone(user, provider, settings):
    settings.LLM_TOKEN_FLUSH_INTERVAL = 0.05
    provider.tokens = [f"t{i} " for i in range(40)]
    ws = await playground(user)
    try:
        await ws.send_json_to(start(params={"max_tokens": 40}))
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    seqs, text = joined_tokens(frames, run_id)
    assert text == "".join(f"t{i} " for i in range(40))
    assert seqs == list(range(len(seqs)))
    assert frames[0]["delta"] == "t0 "
    assert len(seqs) < 40


async def test_malformed_messages_get_errors_and_the_socket_stays_open(user, provider):
    ws = await playground(user)
    try:
        await ws.send_to(text_data="{not json")
        bad_json = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "run.explode"})
        unknown = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "run.start", "prompt": "hi"})
        missing_model = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "run.start", "model": TEST_MODEL, "prompt": "hi", "template_id": "x"})
        both = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "run.cancel"})
        no_run_id = await ws.receive_json_from(timeout=5)
        await ws.send_json_to(start())
        started = await ws.receive_json_from(timeout=5)
        frames = await receive_until_end(ws, started["run_id"])
    finally:
        await ws.disconnect()

    assert bad_json["type"] == "error" and bad_json["code"] == "invalid_json"
    assert unknown == {"type": "error", "code": "unknown_type", "message": "Unknown message type 'run.explode'."}
    assert missing_model["code"] == "invalid_message" and missing_model["message"].startswith("model:")
    assert both == {
        "type": "error",
        "code": "invalid_message",
        "message": "Give either prompt or template_id (with variables), not both.",
    }
    assert no_run_id["code"] == "invalid_message" and no_run_id["message"].startswith("run_id:")
    assert frames[-1]["type"] == "run.completed"


async def test_unknown_model_and_oversized_requests_fail_as_invalid_request(user, provider, settings):
    settings.LLM_MAX_PROMPT_CHARS = 100
    ws = await playground(user)
    try:
        await ws.send_json_to(start(model="nope:nothing"))
        unknown_model = await ws.receive_json_from(timeout=5)
        await ws.send_json_to(start(prompt="x" * 101))
        too_long = await ws.receive_json_from(timeout=5)
        await ws.send_json_to(start(params={"max_tokens": 65}))
        too_many_tokens = await ws.receive_json_from(timeout=5)
    finally:
        await ws.disconnect()

    assert unknown_model == {
        "type": "run.failed",
        "run_id": None,
        "request_id": "r1",
        "error": {"code": "invalid_request", "message": "Unknown model 'nope:nothing'.", "retry_after": None},
        "output": "",
    }
    assert too_long["error"]["message"] == "The prompt is longer than 100 characters."
    assert too_many_tokens["error"]["message"] == f"max_tokens is at most 64 for {TEST_MODEL}."
    assert provider.requests == []
    assert await balance(user) == 100


async def test_cancel_mid_stream_stops_upstream_and_charges_what_was_produced(user, provider):
    provider.tokens = ["a"] * 50
    provider.delay = 0.05
    ws = await playground(user)
    try:
        await ws.send_json_to(start(params={"max_tokens": 50}))
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        first = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "run.cancel", "run_id": run_id})
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    cancelled = frames[-1]
    _, text = joined_tokens([first, *frames], run_id)
    assert cancelled["type"] == "run.cancelled"
    assert cancelled["output"] == text
    assert 1 <= len(text) < 50
    assert provider.closed_early == 1
    # No usage arrived: the estimated input (18) plus one credit per produced token.
    assert cancelled["cost_credits"] == 18 + len(text)
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.output, run.cost_credits) == ("cancelled", text, 18 + len(text))
    assert await balance(user) == 100 - (18 + len(text))


async def test_provider_error_before_the_first_token_refunds_everything(user, provider):
    provider.fail_after = 0
    provider.fail_code = "rate_limited"
    ws = await playground(user)
    try:
        await ws.send_json_to(start())
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    assert frames == [
        {
            "type": "run.failed",
            "run_id": run_id,
            "request_id": "r1",
            "error": {"code": "rate_limited", "message": "scripted failure", "retry_after": None},
            "output": "",
        }
    ]
    assert await balance(user) == 100
    run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
    assert (run.status, run.error_code, run.cost_credits, run.reserved_credits) == (
        "failed",
        "rate_limited",
        0,
        RESERVED_FOR_SAY_HI,
    )


async def test_provider_error_after_the_first_token_charges_the_partial_output(user, provider):
    provider.fail_after = 2
    ws = await playground(user)
    try:
        await ws.send_json_to(start())
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    _, text = joined_tokens(frames, run_id)
    failed = frames[-1]
    assert text == "Hello,"
    assert failed["type"] == "run.failed"
    assert failed["error"]["code"] == "provider_error"
    assert failed["output"] == "Hello,"
    assert await balance(user) == 100 - (18 + 2)


async def test_insufficient_credits_fails_before_any_provider_call(user, provider):
    await database_sync_to_async(set_credits)(user, RESERVED_FOR_SAY_HI - 1)
    ws = await playground(user)
    try:
        await ws.send_json_to(start())
        failed = await ws.receive_json_from(timeout=5)
        await ws.receive_nothing(timeout=0.2)
    finally:
        await ws.disconnect()

    assert failed["type"] == "run.failed"
    assert failed["request_id"] == "r1"
    assert failed["error"]["code"] == "insufficient_credits"
    assert provider.requests == []
    assert await balance(user) == RESERVED_FOR_SAY_HI - 1
    run = await database_sync_to_async(LLMRun.objects.get)(pk=failed["run_id"])
    assert (run.status, run.reserved_credits, run.cost_credits) == ("failed", 0, 0)


async def test_a_fourth_concurrent_run_is_refused(user, provider):
    await database_sync_to_async(set_credits)(user, 1000)
    provider.gate = asyncio.Event()
    ws = await playground(user)
    try:
        run_ids = []
        for n in range(3):
            await ws.send_json_to(start(request_id=f"r{n}"))
            run_ids.append((await ws.receive_json_from(timeout=5))["run_id"])
        await ws.send_json_to(start(request_id="r3"))
        refused = await ws.receive_json_from(timeout=5)
        provider.gate.set()
        frames = []
        while len([f for f in frames if f["type"] == "run.completed"]) < 3:
            frames.append(await ws.receive_json_from(timeout=5))
    finally:
        await ws.disconnect()

    assert refused["type"] == "run.failed"
    assert refused["request_id"] == "r3"
    assert refused["error"]["code"] == "concurrency_limit"
    assert sorted(f["run_id"] for f in frames if f["type"] == "run.completed") == sorted(run_ids)
    for run_id in run_ids:
        assert await database_sync_to_async(run_ledger)(run_id) == {"run.reserve": -34, "run.refund": 23}


async def test_runs_on_one_socket_interleave_each_with_its_own_seq(user, provider):
    provider.tokens = [f"{i}," for i in range(10)]
    provider.delay = 0.03
    ws = await playground(user)
    try:
        await ws.send_json_to(start(request_id="a"))
        first = (await ws.receive_json_from(timeout=5))["run_id"]
        await ws.send_json_to(start(request_id="b"))
        frames = []
        while True:
            frame = await ws.receive_json_from(timeout=5)
            frames.append(frame)
            if frame["type"] == "run.started":
                second = frame["run_id"]
            ended = [f for f in frames if f["type"] == "run.completed"]
            if len(ended) == 2:
                break
    finally:
        await ws.disconnect()

    for run_id in (first, second):
        seqs, text = joined_tokens(frames, run_id)
        assert seqs == list(range(len(seqs)))
        assert text == "".join(f"{i}," for i in range(10))


async def test_another_users_run_is_unknown_to_cancel_and_resume(user, make_user, provider):
    provider.gate = asyncio.Event()
    mallory = await database_sync_to_async(make_user)("mallory")
    alice_ws = await playground(user)
    mallory_ws = await playground(mallory)
    try:
        await alice_ws.send_json_to(start())
        run_id = (await alice_ws.receive_json_from(timeout=5))["run_id"]
        await mallory_ws.send_json_to({"type": "run.cancel", "run_id": run_id})
        cancel_reply = await mallory_ws.receive_json_from(timeout=5)
        await mallory_ws.send_json_to({"type": "run.resume", "run_id": run_id, "after_seq": -1})
        resume_reply = await mallory_ws.receive_json_from(timeout=5)
        await mallory_ws.send_json_to({"type": "run.resume", "run_id": "not-a-uuid", "after_seq": 0})
        garbage_reply = await mallory_ws.receive_json_from(timeout=5)
        provider.gate.set()
        frames = await receive_until_end(alice_ws, run_id)
        await mallory_ws.receive_nothing(timeout=0.2)
    finally:
        await alice_ws.disconnect()
        await mallory_ws.disconnect()

    assert cancel_reply["type"] == "error" and cancel_reply["code"] == "unknown_run"
    assert resume_reply["type"] == "error" and resume_reply["code"] == "unknown_run"
    assert garbage_reply["code"] == "unknown_run"
    assert frames[-1]["type"] == "run.completed"


async def test_ai_requests_throttle_applies_to_run_start(user, provider, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "ai_requests": "2/hour"},
    }
    ws = await playground(user)
    try:
        endings = []
        for n in range(2):
            await ws.send_json_to(start(request_id=f"r{n}"))
            endings.append((await receive_until_end(ws))[-1]["type"])
        await ws.send_json_to(start(request_id="r2"))
        throttled = await ws.receive_json_from(timeout=5)
    finally:
        await ws.disconnect()

    assert endings == ["run.completed", "run.completed"]
    assert throttled["run_id"] is None
    assert throttled["error"]["code"] == "rate_limited"
    assert throttled["error"]["retry_after"] >= 1


async def test_resume_on_a_new_socket_replays_missed_tokens_then_follows(user, provider):
    provider.tokens = [f"{i}." for i in range(12)]
    provider.delay = 0.05
    first = await playground(user)
    await first.send_json_to(start(params={"max_tokens": 12}))
    run_id = (await first.receive_json_from(timeout=5))["run_id"]
    seen = await first.receive_json_from(timeout=5)
    await first.disconnect()
    await asyncio.sleep(0.2)

    second = await playground(user)
    try:
        await second.send_json_to({"type": "run.resume", "run_id": run_id, "after_seq": seen["seq"]})
        frames = await receive_until_end(second, run_id)
    finally:
        await second.disconnect()

    seqs, text = joined_tokens(frames, run_id)
    assert seqs == list(range(seen["seq"] + 1, seen["seq"] + 1 + len(seqs)))
    assert seen["delta"] + text == "".join(f"{i}." for i in range(12))
    assert frames[-1]["type"] == "run.completed"
    assert frames[-1]["output"] == "".join(f"{i}." for i in range(12))


async def test_runs_of_a_closed_socket_are_cancelled_after_the_grace_period(user, provider, settings):
    settings.LLM_RESUME_GRACE_SECONDS = 0.3
    provider.gate = asyncio.Event()
    ws = await playground(user)
    await ws.send_json_to(start())
    run_id = (await ws.receive_json_from(timeout=5))["run_id"]
    await ws.disconnect()

    for _ in range(50):
        run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
        if run.status != "running":
            break
        await asyncio.sleep(0.1)

    assert run.status == "cancelled"
    assert run.cost_credits == 0
    assert provider.closed_early == 1
    assert await balance(user) == 100


async def test_without_redis_resume_and_cancel_work_within_the_process(user, provider, settings):
    settings.STREAMS_REDIS_URL = ""  # dev: no Redis Streams, the live run itself serves the resume
    provider.tokens = [f"{i}." for i in range(40)]
    provider.delay = 0.05
    first = await playground(user)
    await first.send_json_to(start(params={"max_tokens": 40}))
    run_id = (await first.receive_json_from(timeout=5))["run_id"]
    seen = await first.receive_json_from(timeout=5)
    await first.disconnect()

    second = await playground(user)
    try:
        await second.send_json_to({"type": "run.resume", "run_id": run_id, "after_seq": seen["seq"]})
        resumed = await second.receive_json_from(timeout=5)
        await second.send_json_to({"type": "run.cancel", "run_id": run_id})
        frames = await receive_until_end(second, run_id)
    finally:
        await second.disconnect()

    assert resumed["type"] == "run.token" and resumed["seq"] == seen["seq"] + 1
    _, text = joined_tokens([seen, resumed, *frames], run_id)
    assert frames[-1]["type"] == "run.cancelled"
    assert frames[-1]["output"] == text
    assert provider.closed_early == 1


async def test_a_queued_run_tells_the_client_its_position(user, provider):
    async def queued_stream(request, *, on_queued=None):
        await on_queued(2)
        yield "ok"
        yield Usage(input_tokens=1, output_tokens=1)

    provider.stream = queued_stream
    ws = await playground(user)
    try:
        await ws.send_json_to(start())
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    assert frames[0] == {"type": "run.queued", "run_id": run_id, "position": 2}
    assert frames[-1]["output"] == "ok"


async def test_resuming_a_finished_run_no_longer_live_sends_its_end_from_the_database(user, provider):
    from llm.live_runs import live_runs

    ws = await playground(user)
    try:
        await ws.send_json_to(start())
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        completed = (await receive_until_end(ws, run_id))[-1]
        live_runs.runs.pop(run_id)  # as if it had finished on a process long gone,
        await streams.client().delete(run_stream_key(run_id))  # and its stream had expired
        await ws.send_json_to({"type": "run.resume", "run_id": run_id, "after_seq": 0})
        resumed = await ws.receive_json_from(timeout=5)
    finally:
        await ws.disconnect()

    assert resumed == completed


async def test_sockets_from_foreign_origins_are_refused(user):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    ws = WebsocketCommunicator(application, "/ws/playground/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await ws.connect()
    await ws.disconnect()

    assert connected is False


async def test_resuming_a_run_finished_elsewhere_replays_its_stream(user, provider):
    from llm.live_runs import live_runs

    provider.tokens = [f"{i}." for i in range(8)]
    provider.delay = 0.03
    ws = await playground(user)
    try:
        await ws.send_json_to(start())
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        frames = await receive_until_end(ws, run_id)
        live_runs.runs.pop(run_id)  # as if it had run on another process: only Redis has its frames
        await ws.send_json_to({"type": "run.resume", "run_id": run_id, "after_seq": 1})
        replayed = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    assert replayed == [f for f in frames if f["type"] != "run.token" or f["seq"] > 1]


async def test_tokens_are_not_written_to_the_database_while_streaming(user, provider):
    provider.tokens = [f"{i} " for i in range(30)]
    provider.delay = 0.03
    ws = await playground(user)
    try:
        await ws.send_json_to(start(params={"max_tokens": 30}))
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        seen = [await ws.receive_json_from(timeout=5) for _ in range(5)]
        mid_run = await database_sync_to_async(LLMRun.objects.get)(pk=run_id)
        frames = await receive_until_end(ws, run_id)
    finally:
        await ws.disconnect()

    assert len(joined_tokens(seen, run_id)[1]) > 0
    assert (mid_run.status, mid_run.output, mid_run.output_tokens, mid_run.finished_at) == ("running", "", 0, None)
    assert frames[-1]["output"] == "".join(f"{i} " for i in range(30))
