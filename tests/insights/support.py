"""Helpers for insights tests: raw rows at chosen moments, and clients."""

from datetime import datetime

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from challenges.models import Attempt, AttemptSample, AttemptStatus
from llm.models import LLMRun, RunStatus


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def make_run(user, at: datetime, *, status=RunStatus.COMPLETED, model="local:gemma-3-270m", **fields) -> LLMRun:
    run = LLMRun.objects.create(
        user=user, model=model, prompt="Say hi", status=status, reserved_credits=fields.get("cost_credits", 0), **fields
    )
    LLMRun.objects.filter(pk=run.pk).update(created_at=at)
    return run


def make_attempt(user, challenge, at: datetime, *, passed: bool, score: int = 0, prompt_tokens: int = 10,
                 cases: dict[str, bool] | None = None) -> Attempt:  # fmt: skip
    attempt = Attempt.objects.create(
        user=user,
        challenge=challenge,
        version=challenge.versions.order_by("-number").first(),
        model="test:echo",
        prompt="p",
        status=AttemptStatus.COMPLETED,
        passed=passed,
        score=score,
        prompt_tokens=prompt_tokens,
    )
    for case_id, case_passed in (cases or {}).items():
        AttemptSample.objects.create(attempt=attempt, case_id=case_id, passed=case_passed)
    Attempt.objects.filter(pk=attempt.pk).update(created_at=at)
    return attempt
