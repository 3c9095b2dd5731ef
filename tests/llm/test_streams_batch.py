"""Run frames reach Redis in one scripted command per batch, each in its own run's stream."""

import uuid

from llm import streams
from llm.events import run_stream_key


async def test_one_batch_of_interleaved_runs_lands_in_each_stream_in_order(settings):
    settings.LLM_STREAM_TTL_SECONDS = 40
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    redis = streams.client()
    try:
        # given frames of two runs queued before any round trip, the second run ending
        streams.append(first, '{"seq":0}')
        streams.append(second, '{"seq":0}')
        streams.append(first, '{"seq":1}')
        streams.append(second, '{"done":true}', final=True)

        # when they are written
        await streams.flush()

        # then each stream holds its own frames in order, with the TTL set
        stored_first = [fields[b"f"] for _, fields in await redis.xrange(run_stream_key(first))]
        stored_second = [fields[b"f"] for _, fields in await redis.xrange(run_stream_key(second))]
        assert stored_first == [b'{"seq":0}', b'{"seq":1}']
        assert stored_second == [b'{"seq":0}', b'{"done":true}']
        assert 30 < await redis.ttl(run_stream_key(first)) <= 40
        assert 30 < await redis.ttl(run_stream_key(second)) <= 40
    finally:
        await redis.delete(run_stream_key(first), run_stream_key(second))
        await redis.aclose()
