from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from game.services import credits_grant, credits_spend, xp_award
from insights.selectors import window_start
from llm.models import LLMRun, RunStatus
from prompts.models import Visibility
from prompts.services import template_create

pytestmark = pytest.mark.django_db


def _client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def _run(user, *, days_ago: int = 0, status=RunStatus.COMPLETED, model="local:gemma-3-270m", template=None, **fields):
    run = LLMRun.objects.create(
        user=user,
        model=model,
        prompt="Say hi",
        status=status,
        template=template,
        reserved_credits=fields.get("cost_credits", 0),
        **fields,
    )
    LLMRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return run


def test_my_insights_totals_and_zero_filled_daily_series(user, make_user):
    # given two runs today, one failed run two days ago, one run outside the window, and someone else's run
    _run(user, input_tokens=10, output_tokens=20, cost_credits=2, ttft_ms=100, latency_ms=1000)
    _run(
        user, model="openai:gpt-4o-mini", input_tokens=5, output_tokens=7, cost_credits=3, ttft_ms=300, latency_ms=2000
    )
    _run(user, days_ago=2, status=RunStatus.FAILED, input_tokens=4)
    _run(user, days_ago=10, output_tokens=999)
    _run(make_user("bob"), output_tokens=500)
    xp_award(user_id=user.pk, amount=30, reason="manual", idempotency_key="insights-xp")
    credits_spend(user_id=user.pk, amount=7, reason="run.reserve", idempotency_key="insights-spend")
    credits_grant(user_id=user.pk, amount=4, reason="run.refund", idempotency_key="insights-refund")
    credits_grant(user_id=user.pk, amount=25, reason="level.up", idempotency_key="insights-reward")

    # when
    response = _client_for(user).get("/api/v1/insights/me/?days=7")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["window"] == {"days": 7, "since": window_start(7).date().isoformat()}
    totals = body["totals"]
    assert totals["runs"] == 3
    assert totals["completed"] == 2
    assert totals["failed"] == 1
    assert totals["input_tokens"] == 19
    assert totals["output_tokens"] == 27
    assert totals["cost_credits"] == 5
    assert totals["avg_ttft_ms"] == 200.0
    assert totals["avg_latency_ms"] == 1500.0
    assert totals["xp_earned"] == 30
    assert totals["credits_spent"] == 3
    assert totals["credits_earned"] == 125  # the welcome credits and the reward
    assert len(body["daily_runs"]) == 7
    assert [day["runs"] for day in body["daily_runs"]] == [0, 0, 0, 0, 1, 0, 2]
    assert body["daily_xp"][-1]["xp"] == 30
    assert {row["model"]: row["runs"] for row in body["by_model"]} == {"local:gemma-3-270m": 2, "openai:gpt-4o-mini": 1}


def test_my_insights_rejects_bad_window(auth_client):
    for days in ("0", "366", "abc"):
        response = auth_client.get(f"/api/v1/insights/me/?days={days}")
        assert response.status_code == 400
        assert "days" in response.json()


def test_my_insights_requires_authentication():
    assert APIClient().get("/api/v1/insights/me/").status_code == 401


def test_template_insights_for_owner(user, make_user):
    template = template_create(owner=user, title="Summariser", content="Summarise {{ text }}", visibility="public")
    runner = make_user("bob")
    _run(runner, template=template, output_tokens=11)
    _run(user, template=template, output_tokens=4)
    _run(user, output_tokens=100)  # a free-prompt run is not the template's

    response = _client_for(user).get(f"/api/v1/insights/templates/{template.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["template"]["id"] == str(template.pk)
    assert body["totals"]["runs"] == 2
    assert body["totals"]["runners"] == 2
    assert body["totals"]["output_tokens"] == 15
    assert body["rating_distribution"] == [{"score": s, "count": 0} for s in range(1, 6)]


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.PUBLIC])
def test_template_insights_are_404_for_other_users(user, make_user, visibility):
    template = template_create(owner=user, title="Mine", content="Hello {{ name }}", visibility=visibility)

    response = _client_for(make_user("mallory")).get(f"/api/v1/insights/templates/{template.pk}/")

    assert response.status_code == 404


def test_template_insights_unknown_or_malformed_id_is_404(auth_client):
    assert auth_client.get("/api/v1/insights/templates/not-a-uuid/").status_code == 404
    assert auth_client.get("/api/v1/insights/templates/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_platform_insights_staff_only(user, make_user):
    staff = make_user("staffer", is_staff=True)
    _run(user, model="openai:gpt-4o-mini", output_tokens=3)
    _run(staff, model="local:gemma-3-270m", output_tokens=2)
    _run(staff, model="local:gemma-3-270m", output_tokens=1)

    assert _client_for(user).get("/api/v1/insights/platform/").status_code == 403
    response = _client_for(staff).get("/api/v1/insights/platform/?days=1")

    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["users"] == 2
    assert body["totals"]["active_users"] == 2
    assert body["totals"]["runs"] == 3
    assert body["by_provider"] == [
        {"provider": "local", "runs": 2, "output_tokens": 3},
        {"provider": "openai", "runs": 1, "output_tokens": 3},
    ]
    assert body["daily_new_users"] == [{"date": window_start(1).date().isoformat(), "new_users": 2}]
