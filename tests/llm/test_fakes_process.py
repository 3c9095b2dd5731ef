"""The fake OpenAI server as its own process (as the benchmark runs it), steered over /_fake/*."""

import json
import subprocess
import sys
import urllib.request

import pytest

from llm.providers.base import GenerationRequest, Usage
from llm.providers.openai import OpenAIProvider
from tests.llm.providers_support import closed_http_clients, collect  # noqa: F401  (fixture)
from tests.support.processes import REPO_ROOT, stop_process


def _control(port: int, path: str, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_fake/{path}", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def fake_openai_process():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes", "openai"], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        yield int(proc.stdout.readline().split()[1])
    finally:
        stop_process(proc)
        proc.stdout.close()


@pytest.mark.processes
@pytest.mark.usefixtures("closed_http_clients")
async def test_fake_process_plays_the_script_it_is_given_and_records_requests(fake_openai_process, settings):
    port = fake_openai_process
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.OPENAI_API_KEY = "sk-test"
    _control(port, "script", {"tokens": ["from", " a", " process"]})
    _control(port, "enqueue", [{"status": 503}])

    result = await collect(OpenAIProvider().stream(GenerationRequest(model="gpt-4o-mini", prompt="one two three")))

    recorded = _control(port, "requests")
    assert result.deltas == ["from", " a", " process"]
    assert result.usage == Usage(input_tokens=3, output_tokens=3)
    assert [(r["path"], r["completed"], r["disconnected"], r["tokens_sent"]) for r in recorded] == [
        ("/v1/chat/completions", True, False, 0),
        ("/v1/chat/completions", True, False, 3),
    ]
