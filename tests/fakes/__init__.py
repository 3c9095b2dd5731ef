"""Fake OpenAI and Anthropic HTTP servers on loopback for tests and benchmarks.

server = fake_openai_server().start()   # or the `fake_openai` / `fake_anthropic` fixtures
server.script(tokens=["Hi", "!"], delay=0.01)
...  # point OPENAI_BASE_URL at f"{server.url}/v1", ANTHROPIC_BASE_URL at server.url
assert server.last_request().disconnected
server.stop()
"""

from tests.fakes.dialects import AnthropicDialect, OpenAIDialect
from tests.fakes.server import FakeLLMServer, RecordedRequest, Script


def fake_openai_server(*, port: int = 0) -> FakeLLMServer:
    return FakeLLMServer(OpenAIDialect(), port=port)


def fake_anthropic_server(*, port: int = 0) -> FakeLLMServer:
    return FakeLLMServer(AnthropicDialect(), port=port)


__all__ = ["FakeLLMServer", "RecordedRequest", "Script", "fake_anthropic_server", "fake_openai_server"]
