"""Helpers for run tests: an in-process scripted provider, playground sockets, and balances."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import RefreshToken

from llm import registry
from llm.providers.base import GenerationRequest, Provider, ProviderError, Usage
from llm.registry import DefaultParams, ModelSpec

TEST_MODEL = "test:echo"
# The test model's twin among the embedded models: the one kind an unverified account may run.
LOCAL_TEST_MODEL = "local:echo"


@dataclass
class ScriptedProvider:
    """Streams scripted deltas; records requests and whether the stream was closed early."""

    tokens: list[str] = field(default_factory=lambda: ["Hello", ",", " world", "!"])
    delay: float = 0.0
    fail_after: int | None = None  # raise ProviderError after this many tokens
    fail_code: str = "provider_error"
    input_tokens: int = 7
    name: str = "test"
    requests: list[GenerationRequest] = field(default_factory=list)
    closed_early: int = 0
    gate: asyncio.Event | None = None  # when set, waits for it before the first token

    def available(self) -> bool:
        return True

    async def stream(self, request: GenerationRequest, *, on_queued=None) -> AsyncIterator[str | Usage]:
        self.requests.append(request)
        finished = False
        try:
            if self.gate is not None:
                await self.gate.wait()
            for index, token in enumerate(self.tokens[: request.max_tokens]):
                if self.fail_after is not None and index == self.fail_after:
                    raise ProviderError(self.fail_code, "scripted failure")
                if self.delay:
                    await asyncio.sleep(self.delay)
                yield token
            if self.fail_after is not None and self.fail_after >= len(self.tokens):
                raise ProviderError(self.fail_code, "scripted failure")
            finished = True
            yield Usage(input_tokens=self.input_tokens, output_tokens=min(len(self.tokens), request.max_tokens))
        finally:
            if not finished:
                self.closed_early += 1


def echo_model_spec() -> ModelSpec:
    """A test model priced at 1000 credits per 1K tokens: one credit per token, easy to count."""
    # Built without validation: "test" is not one of the registry's provider names.
    return ModelSpec.model_construct(
        id=TEST_MODEL,
        provider="test",
        name="echo",
        display_name="Echo (test)",
        description="",
        context_limit=4096,
        max_output_tokens=64,
        temperature_max=2.0,
        default_params=DefaultParams(temperature=0.7, max_tokens=16),
        credits_per_1k_input=1000,
        credits_per_1k_output=1000,
    )


def serving_test_model(provider: Provider):
    """Runs of TEST_MODEL stream from `provider` within the block."""
    return registry.override_models((echo_model_spec(), provider))


def local_echo_model_spec() -> ModelSpec:
    """LOCAL_TEST_MODEL: the echo model's prices, under the embedded models' provider name."""
    return echo_model_spec().model_copy(update={"id": LOCAL_TEST_MODEL, "provider": "local"})


def serving_local_test_model(provider: Provider):
    """Runs of LOCAL_TEST_MODEL stream from `provider` within the block (the llama.cpp pool is not used)."""
    return registry.override_models((local_echo_model_spec(), provider))


def response_json(response) -> dict:
    """The JSON body of a run response (streamed: it is sent once the run has finished)."""

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return json.loads(async_to_sync(collect)())


def access_token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


async def playground(user) -> WebsocketCommunicator:
    """An authenticated /ws/playground/ socket on the real ASGI application."""
    from config.asgi import application

    communicator = WebsocketCommunicator(application, "/ws/playground/")
    connected, _ = await communicator.connect()
    assert connected
    token = await database_sync_to_async(access_token)(user)
    await communicator.send_json_to({"type": "auth", "token": token})
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] == "auth.ok"
    return communicator


async def receive_until_end(communicator, run_id: str | None = None, timeout: float = 10) -> list[dict]:
    """Frames up to and including the terminal frame of `run_id` (or of any run)."""
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        frames.append(frame)
        ended = frame["type"] in {"run.completed", "run.cancelled", "run.failed"}
        if ended and (run_id is None or frame.get("run_id") == run_id):
            return frames


def joined_tokens(frames: list[dict], run_id: str) -> tuple[list[int], str]:
    tokens = [f for f in frames if f["type"] == "run.token" and f["run_id"] == run_id]
    return [f["seq"] for f in tokens], "".join(f["delta"] for f in tokens)


def set_credits(user, amount: int) -> None:
    """Move the user's balance to `amount` through the game's ledger (as a real grant/spend)."""
    from game import services as game_services

    user.refresh_from_db()
    delta = amount - user.credits
    if delta > 0:
        game_services.credits_grant(user_id=user.pk, amount=delta, reason="test", idempotency_key=f"test:{amount}")
    elif delta < 0:
        game_services.credits_spend(user_id=user.pk, amount=-delta, reason="test", idempotency_key=f"test:{amount}")


def dumps(frame: dict) -> str:
    return json.dumps(frame)


def run_ledger(run_id: str) -> dict[str, int]:
    """The credit entries of one run: {"run.reserve": -n, "run.refund": +m}."""
    from game.models import CreditEntry

    entries = CreditEntry.objects.filter(idempotency_key__startswith=f"run:{run_id}:")
    return {entry.reason: entry.delta for entry in entries}
