"""Fake OpenAI and Anthropic HTTP servers on loopback for tests and benchmarks.

server = fake_openai_server().start()   # or the `fake_openai` / `fake_anthropic` fixtures
server.script(tokens=["Hi", "!"], delay=0.01)
...  # point OPENAI_BASE_URL at f"{server.url}/v1", ANTHROPIC_BASE_URL at server.url
assert server.last_request().disconnected
server.stop()
"""

from tests.fakes.dialects import AnthropicDialect, OpenAIDialect
from tests.fakes.server import FakeLLMServer, RecordedRequest, Script


def fake_openai_server(*, port: int = 0, **options) -> FakeLLMServer:
    """A fake OpenAI-compatible server; options: `models` (GET /v1/models), `accepted_keys`."""
    return FakeLLMServer(OpenAIDialect(), port=port, **options)


def fake_anthropic_server(*, port: int = 0, **options) -> FakeLLMServer:
    """A fake Anthropic server; options as for `fake_openai_server`."""
    return FakeLLMServer(AnthropicDialect(), port=port, **options)


__all__ = ["FakeLLMServer", "RecordedRequest", "Script", "fake_anthropic_server", "fake_openai_server"]
