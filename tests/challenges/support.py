"""Helpers for challenge tests: a provider that answers by prompt, challenge documents, sockets."""

import asyncio
import copy
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from llm.providers.base import GenerationRequest, Usage
from tests.llm.runs_support import TEST_MODEL

CAPITALS = {"France": "Paris", "Italy": "Rome", "Japan": "Tokyo", "Peru": "Lima"}
# The case runs' params: one credit per token on the test model (see echo_model_spec).
PARAMS = {"temperature": 0, "max_tokens": 8}
PROMPT = "Capital of {{country}}? One word."


def capital_answer(request: GenerationRequest) -> list[str]:
    """The capital of the country named in the prompt, as one token; 'Unknown' otherwise."""
    for country, city in CAPITALS.items():
        if re.search(rf"\b{country}\b", request.prompt):
            return [city]
    return ["Unknown"]


@dataclass
class AnsweringProvider:
    """Streams `answer(request)` as deltas (each after `delay`); records requests and early closes."""

    answer: Callable[[GenerationRequest], list[str]] = capital_answer
    delay: float = 0.0
    name: str = "test"
    requests: list[GenerationRequest] = field(default_factory=list)
    closed_early: int = 0
    sent: list[int] = field(default_factory=list)  # deltas yielded, per request
    gate: asyncio.Event | None = None  # when set, every stream waits for it before its first delta
    active: int = 0
    most_active: int = 0  # the most streams at once

    def available(self) -> bool:
        return True

    async def stream(self, request: GenerationRequest, *, on_queued=None) -> AsyncIterator[str | Usage]:
        self.requests.append(request)
        index = len(self.sent)
        self.sent.append(0)
        tokens = self.answer(request)[: request.max_tokens]
        finished = False
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            for token in tokens:
                if self.delay:
                    await asyncio.sleep(self.delay)
                self.sent[index] += 1
                yield token
            finished = True
            yield Usage(input_tokens=5, output_tokens=len(tokens))
        finally:
            self.active -= 1
            if not finished:
                self.closed_early += 1


def case(country: str, *, hidden: bool = False, checks: list[dict] | None = None) -> dict:
    return {
        "input": {"country": country},
        "checks": checks or [{"type": "icontains", "value": CAPITALS.get(country, "?").lower()}],
        "hidden": hidden,
    }


BASE_DOCUMENT = {
    "title": "Capitals in one word",
    "summary": "Name the capital, nothing else.",
    "brief": "## Constraints\nSay the shape of the answer.\n\n## Task\nAnswer with the capital of {{country}}.",
    "track": "foundations",
    "technique": "instructions",
    "difficulty": "beginner",
    "cases": [case("France"), case("Italy"), case("Japan", hidden=True)],
    "par_tokens": 12,
    "models": [TEST_MODEL],
    "default_model": TEST_MODEL,
    "params": PARAMS,
    "hints": ["One word."],
}


def document(**overrides) -> dict:
    return {**copy.deepcopy(BASE_DOCUMENT), **overrides}


def make_challenge(author, *, builtin: bool = False, **overrides):
    """A challenge of `author` (private) from BASE_DOCUMENT with `overrides`, through the services.

    `builtin`: a public challenge of the curriculum instead (no author), one whose attempts count
    in the game.
    """
    from challenges import documents, services

    checked = documents.ChallengeDocumentSerializer(data=document(**overrides))
    checked.is_valid(raise_exception=True)
    return services.challenge_create(author=author, document=checked.validated_data, builtin=builtin)


def attempt_start_frame(challenge: str, prompt: str = PROMPT, request_id: str = "a1", **extra) -> dict:
    return {"type": "attempt.start", "request_id": request_id, "challenge": challenge, "prompt": prompt, **extra}


async def receive_until(communicator, types: set[str], timeout: float = 10) -> list[dict]:
    """Frames up to and including the first whose type is in `types`."""
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        frames.append(frame)
        if frame["type"] in types:
            return frames


ATTEMPT_END = {"attempt.completed", "attempt.cancelled", "attempt.failed", "error"}
