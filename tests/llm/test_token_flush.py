"""When `run.token` frames go out: the first delta at once, then each delta within one flush interval."""

import itertools
import time

import pytest

from tests.llm.runs_support import TEST_MODEL, joined_tokens, playground

pytestmark = [pytest.mark.django_db(transaction=True)]


def start(prompt="Say hi", **extra):
    return {"type": "run.start", "request_id": "r1", "model": TEST_MODEL, "prompt": prompt, **extra}


async def frames_with_arrival(ws, run_id: str) -> list[tuple[float, dict]]:
    frames = []
    while True:
        frame = await ws.receive_json_from(timeout=5)
        frames.append((time.monotonic(), frame))
        if frame.get("run_id") == run_id and frame["type"] != "run.token":
            return frames


async def test_slow_deltas_each_go_out_within_the_interval_not_with_the_next_one(user, provider, settings):
    # given deltas 150 ms apart and a 20 ms flush interval
    settings.LLM_TOKEN_FLUSH_INTERVAL = 0.02
    provider.tokens = ["a", "b", "c", "d", "e"]
    provider.delay = 0.15
    ws = await playground(user)
    try:
        await ws.send_json_to(start(params={"max_tokens": 5}))
        run_id = (await ws.receive_json_from(timeout=5))["run_id"]
        timed = await frames_with_arrival(ws, run_id)
    finally:
        await ws.disconnect()

    # then every delta is its own frame (none waited for the next delta), about 150 ms apart
    tokens = [(at, frame) for at, frame in timed if frame["type"] == "run.token"]
    seqs, text = joined_tokens([frame for _, frame in timed], run_id)
    assert text == "abcde"
    assert seqs == [0, 1, 2, 3, 4]
    assert [frame["delta"] for _, frame in tokens] == ["a", "b", "c", "d", "e"]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(tokens)]
    assert all(0.1 < gap < 0.3 for gap in gaps), gaps


async def test_two_runs_on_one_socket_keep_their_own_sequences(user, provider, settings):
    settings.LLM_TOKEN_FLUSH_INTERVAL = 0.01
    provider.tokens = [f"t{i} " for i in range(30)]
    provider.delay = 0.005
    ws = await playground(user)
    try:
        await ws.send_json_to(start(params={"max_tokens": 30}))
        await ws.send_json_to(start(params={"max_tokens": 30}))
        run_ids, ended, frames = [], set(), []
        while len(ended) < 2:
            frame = await ws.receive_json_from(timeout=5)
            if frame["type"] == "run.started":
                run_ids.append(frame["run_id"])
            elif frame["type"] == "run.token":
                frames.append(frame)
            else:
                ended.add(frame["run_id"])
    finally:
        await ws.disconnect()

    for run_id in run_ids:
        seqs, text = joined_tokens(frames, run_id)
        assert text == "".join(f"t{i} " for i in range(30))
        assert seqs == list(range(len(seqs)))
