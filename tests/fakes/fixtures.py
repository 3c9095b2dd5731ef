"""Pytest fixtures: fake LLM servers started for a test and always stopped, with settings pointed at them."""

from collections.abc import Iterator

import pytest

from tests.fakes import FakeLLMServer, fake_anthropic_server, fake_openai_server
from tests.fakes.oidc import FakeOIDCProvider


@pytest.fixture
def fake_openai(settings) -> Iterator[FakeLLMServer]:
    """A fake OpenAI-compatible server; OPENAI_BASE_URL/OPENAI_API_KEY settings point at it for this test."""
    server = fake_openai_server().start()
    settings.OPENAI_BASE_URL = f"{server.url}/v1"
    settings.OPENAI_API_KEY = "sk-test"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_anthropic(settings) -> Iterator[FakeLLMServer]:
    """A fake Anthropic Messages server; ANTHROPIC_BASE_URL/API key point at it for this test."""
    server = fake_anthropic_server().start()
    settings.ANTHROPIC_BASE_URL = server.url
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_oidc(settings) -> Iterator[FakeOIDCProvider]:
    """A fake OpenID Connect provider, configured as the sign-in provider `fakeid` for this test."""
    from config.social import oidc_app

    provider = FakeOIDCProvider().start()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [oidc_app("fakeid", "Fake ID", provider.client_id, provider.client_secret, provider.issuer)]
        }
    }
    try:
        yield provider
    finally:
        provider.stop()
