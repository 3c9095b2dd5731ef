"""The insights endpoints: the learner's, an author's and the platform's documents, and bad input."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from game.services import credits_grant, credits_spend, xp_award
from insights.histograms import bucket_of, bucket_value
from insights.rollups import rollup_recent
from llm.models import RunStatus
from prompts.models import Visibility
from prompts.services import template_create, template_fork
from tests.challenges.support import make_challenge
from tests.insights.support import client_for, make_attempt, make_run

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


def _ms(value: int) -> int:
    """What a histogram reports for `value` (its bucket's representative value)."""
    return bucket_value(bucket_of(value))


def _series(body: dict, name: str) -> list:
    return [row[name] for row in body["series"]]


@pytest.fixture(params=["live", "rolled_up"])
def rolled(request):
    """Run each document test twice: read from the raw tables, and after the rollup task ran."""

    def finish() -> None:
        if request.param == "rolled_up":
            rollup_recent(now=NOW + timedelta(days=2))

    return finish


def test_my_insights_totals_series_and_rates(user, make_user, rolled):
    # given runs over three days ago..today, someone else's run, and ledger entries today
    today = NOW.replace(hour=12, minute=0, second=0, microsecond=0)
    make_run(user, today, input_tokens=10, output_tokens=20, cost_credits=2, ttft_ms=100, latency_ms=1000)
    make_run(user, today, model="openai:gpt-4o-mini", input_tokens=5, output_tokens=7, cost_credits=3,
             ttft_ms=300, latency_ms=2000)  # fmt: skip
    make_run(user, today - timedelta(days=2), status=RunStatus.FAILED, input_tokens=4, error_code="provider_error")
    make_run(user, today - timedelta(days=2), status=RunStatus.CANCELLED)
    make_run(user, today - timedelta(days=10), output_tokens=999)
    make_run(make_user("bob"), today, output_tokens=500)
    xp_award(user_id=user.pk, amount=30, reason="manual", idempotency_key="insights-xp")
    credits_spend(user_id=user.pk, amount=7, reason="run.reserve", idempotency_key="insights-spend")
    credits_grant(user_id=user.pk, amount=4, reason="run.refund", idempotency_key="insights-refund")
    credits_grant(user_id=user.pk, amount=25, reason="level.up", idempotency_key="insights-reward")
    rolled()

    # when
    response = client_for(user).get(f"/api/v1/insights/me/?days=7&tz=UTC&to={today.date().isoformat()}")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["window"] == {
        "from": (today.date() - timedelta(days=6)).isoformat(),
        "to": today.date().isoformat(),
        "days": 7,
        "tz": "UTC",
        "bucket": "day",
    }
    totals = body["totals"]
    assert (totals["runs"], totals["completed"], totals["failed"], totals["cancelled"]) == (4, 2, 1, 1)
    assert (totals["success_rate"], totals["failure_rate"], totals["cancel_rate"]) == (0.5, 0.25, 0.25)
    assert (totals["input_tokens"], totals["output_tokens"], totals["cost_credits"]) == (19, 27, 5)
    assert totals["median_ttft_ms"] == _ms(100)
    assert totals["median_latency_ms"] == _ms(1000)
    assert totals["p95_latency_ms"] == _ms(2000)
    assert totals["xp_earned"] == 30
    assert totals["credits_spent"] == 3  # reserved 7, 4 refunded
    assert totals["credits_earned"] == 125  # the welcome credits and the reward
    assert _series(body, "runs") == [0, 0, 0, 0, 2, 0, 2]
    assert _series(body, "xp")[-1] == 30
    assert _series(body, "xp_cumulative")[-1] == 30
    assert {row["model"]: row["runs"] for row in body["by_model"]} == {
        "local:gemma-3-270m": 3,
        "openai:gpt-4o-mini": 1,
    }
    assert [day["active"] for day in body["calendar"]] == [False] * 4 + [True, False, True]


def test_days_follow_the_viewers_time_zone(user, rolled):
    # given a run at 23:30 UTC: the next day in Paris, the same day in New York
    day = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)
    make_run(user, day, output_tokens=5)
    rolled()
    client = client_for(user)

    paris = client.get("/api/v1/insights/me/?from=2026-06-10&to=2026-06-11&tz=Europe/Paris").json()
    new_york = client.get("/api/v1/insights/me/?from=2026-06-10&to=2026-06-11&tz=America/New_York").json()
    kolkata = client.get("/api/v1/insights/me/?from=2026-06-10&to=2026-06-11&tz=Asia/Kolkata").json()

    assert _series(paris, "runs") == [0, 1]
    assert _series(new_york, "runs") == [1, 0]
    assert _series(kolkata, "runs") == [0, 1]  # 05:00 on the 11th, a half-hour zone


def test_the_profile_time_zone_is_the_default(make_user):
    tokyo = make_user("kenji", timezone="Asia/Tokyo")
    make_run(tokyo, datetime(2026, 6, 10, 16, 0, tzinfo=UTC))  # 01:00 on the 11th in Tokyo

    body = client_for(tokyo).get("/api/v1/insights/me/?from=2026-06-10&to=2026-06-11").json()

    assert body["window"]["tz"] == "Asia/Tokyo"
    assert _series(body, "runs") == [0, 1]


def test_weeks_and_months_sum_the_days(user, rolled):
    for day in ("2026-03-02", "2026-03-08", "2026-03-09", "2026-04-01"):  # Mon, Sun, Mon, Wed
        make_run(user, datetime.fromisoformat(f"{day}T12:00:00+00:00"))
    rolled()
    client = client_for(user)

    weeks = client.get("/api/v1/insights/me/?from=2026-03-01&to=2026-04-05&tz=UTC&bucket=week").json()
    months = client.get("/api/v1/insights/me/?from=2026-03-01&to=2026-04-05&tz=UTC&bucket=month").json()

    assert [(row["start"], row["runs"]) for row in weeks["series"]] == [
        ("2026-02-23", 0),
        ("2026-03-02", 2),
        ("2026-03-09", 1),
        ("2026-03-16", 0),
        ("2026-03-23", 0),
        ("2026-03-30", 1),
    ]
    assert [(row["start"], row["runs"]) for row in months["series"]] == [("2026-03-01", 3), ("2026-04-01", 1)]


def test_learner_challenges_scores_and_skill(user, make_user, rolled, provider):
    author = make_user("author")
    challenge = make_challenge(author)
    first, second = challenge.cases[0]["id"], challenge.cases[1]["id"]
    make_attempt(user, challenge, datetime(2026, 5, 1, 10, tzinfo=UTC), passed=False, score=0, cases={first: False})
    make_attempt(user, challenge, datetime(2026, 5, 2, 10, tzinfo=UTC), passed=True, score=600, cases={first: True})
    make_attempt(user, challenge, datetime(2026, 5, 3, 10, tzinfo=UTC), passed=True, score=800, cases={second: True})
    rolled()

    body = client_for(user).get("/api/v1/insights/me/?from=2026-05-01&to=2026-05-03&tz=UTC").json()

    assert body["totals"]["challenges_attempted"] == 1
    assert body["totals"]["challenges_passed"] == 1
    [entry] = body["challenges"]
    assert (entry["slug"], entry["attempts"], entry["passed"], entry["best_score"]) == (challenge.slug, 3, 2, 800)
    assert [p["best_score"] for p in entry["progress"]] == [0, 600, 800]
    assert _series(body, "attempts") == [1, 1, 1]
    assert _series(body, "skill") == [0, 600, 800]  # a beginner challenge weighs 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2025-01-01&to=2026-01-02", "from"),  # 367 days
        ("from=2026-02-02&to=2026-02-01", "from"),
        ("days=367", "days"),
        ("days=0", "days"),
        ("bucket=year", "bucket"),
        ("tz=Mars/Olympus", "tz"),
        ("from=yesterday", "from"),
    ],
)
def test_bad_windows_are_400_naming_the_field(user, make_user, query, field, provider):
    template = template_create(owner=user, title="Mine", content="Hello {{ name }}", visibility="public")
    challenge = make_challenge(user)
    staff = client_for(make_user("staffer", is_staff=True))
    paths = ("me/", f"templates/{template.pk}/", f"challenges/{challenge.slug}/")
    for client, path in [(client_for(user), path) for path in paths] + [(staff, "platform/")]:
        response = client.get(f"/api/v1/insights/{path}?{query}")
        assert response.status_code == 400, path
        assert field in response.json(), path
    # the platform is staff only, whatever the query
    assert client_for(user).get(f"/api/v1/insights/platform/?{query}").status_code == 403


def test_a_whole_leap_year_is_allowed(auth_client):
    assert auth_client.get("/api/v1/insights/me/?from=2024-01-01&to=2024-12-31").status_code == 200
    assert auth_client.get("/api/v1/insights/me/?days=366").status_code == 200


def test_my_insights_requires_authentication():
    assert APIClient().get("/api/v1/insights/me/").status_code == 401


def test_template_insights_for_owner(user, make_user, rolled):
    template = template_create(owner=user, title="Summariser", content="Summarise {{ text }}", visibility="public")
    bob = make_user("bob")
    day = datetime(2026, 7, 1, 12, tzinfo=UTC)
    make_run(bob, day, template=template, output_tokens=11, cost_credits=4)
    make_run(bob, day, template=template, model="openai:gpt-4o-mini", output_tokens=1, cost_credits=2)
    make_run(user, day + timedelta(days=1), template=template, output_tokens=4)
    make_run(user, day, output_tokens=100)  # a free-prompt run is not the template's
    template_fork(user=bob, template=template)
    rolled()

    response = client_for(user).get(f"/api/v1/insights/templates/{template.pk}/?from=2026-07-01&to=2026-07-02&tz=UTC")

    assert response.status_code == 200
    body = response.json()
    assert body["template"]["id"] == str(template.pk)
    assert body["totals"]["runs"] == 3
    assert body["totals"]["runners"] == 2
    assert body["totals"]["output_tokens"] == 16
    assert body["totals"]["avg_cost"] == 2.0
    assert body["totals"]["forks_count"] == 1
    assert _series(body, "runs") == [2, 1]
    assert _series(body, "runners") == [1, 1]
    assert {row["model"]: row["runs"] for row in body["by_model"]} == {"local:gemma-3-270m": 2, "openai:gpt-4o-mini": 1}
    assert body["rating_distribution"] == [{"score": s, "count": 0} for s in range(1, 6)]


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.PUBLIC])
def test_template_insights_are_404_for_other_users(user, make_user, visibility):
    template = template_create(owner=user, title="Mine", content="Hello {{ name }}", visibility=visibility)

    response = client_for(make_user("mallory")).get(f"/api/v1/insights/templates/{template.pk}/")

    assert response.status_code == 404


def test_template_insights_unknown_or_malformed_id_is_404(auth_client):
    assert auth_client.get("/api/v1/insights/templates/not-a-uuid/").status_code == 404
    assert auth_client.get("/api/v1/insights/templates/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_challenge_insights_for_its_author(user, make_user, rolled, provider):
    # given attempts by two learners, one case (the hidden one) failing most
    challenge = make_challenge(user)
    france, italy, japan = (case["id"] for case in challenge.cases)
    day = datetime(2026, 8, 3, 9, tzinfo=UTC)
    for n, learner in enumerate((make_user("l1"), make_user("l2"))):
        make_attempt(learner, challenge, day, passed=True, score=700, prompt_tokens=8 + n,
                     cases={france: True, italy: True, japan: True})  # fmt: skip
        make_attempt(learner, challenge, day + timedelta(days=1), passed=False,
                     cases={france: True, italy: False, japan: False})  # fmt: skip
    make_attempt(user, challenge, day + timedelta(days=1), passed=False, cases={france: False, japan: False})
    rolled()

    response = client_for(user).get(
        f"/api/v1/insights/challenges/{challenge.slug}/?from=2026-08-03&to=2026-08-04&tz=UTC"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["attempts"] == 5
    assert body["totals"]["passed"] == 2
    assert body["totals"]["pass_rate"] == 0.4
    assert body["totals"]["users"] == 3
    assert body["totals"]["median_pass_prompt_tokens"] == 8
    assert body["totals"]["par_tokens"] == 12
    assert _series(body, "pass_rate") == [1.0, 0.0]
    assert [(c["case_id"], c["hidden"], c["samples"], c["failed"]) for c in body["failing_cases"]] == [
        (japan, True, 5, 3),
        (italy, False, 4, 2),
        (france, False, 5, 1),
    ]


def test_challenge_insights_are_404_for_anyone_but_the_author(user, make_user, provider):
    challenge = make_challenge(user)
    staff = make_user("staffer", is_staff=True)

    for other in (make_user("mallory"), staff):
        response = client_for(other).get(f"/api/v1/insights/challenges/{challenge.slug}/")
        assert response.status_code == 404
        assert "HIDDEN" not in response.content.decode()
    assert client_for(user).get("/api/v1/insights/challenges/no-such-slug/").status_code == 404


def test_platform_insights_staff_only(user, make_user, rolled):
    staff = make_user("staffer", is_staff=True)
    today = datetime.now(UTC)  # after both joined: their first day's runs
    make_run(user, today, model="openai:gpt-4o-mini", output_tokens=3, ttft_ms=200, latency_ms=900)
    make_run(staff, today, output_tokens=2, ttft_ms=40, latency_ms=300)
    make_run(staff, today, output_tokens=1, ttft_ms=50, latency_ms=500)
    make_run(staff, today - timedelta(days=3), status=RunStatus.FAILED, error_code="rate_limited")
    make_run(user, today - timedelta(days=20), status=RunStatus.FAILED, error_code="provider_error")
    rolled()

    assert client_for(user).get("/api/v1/insights/platform/").status_code == 403
    response = client_for(staff).get(f"/api/v1/insights/platform/?days=7&tz=UTC&to={today.date().isoformat()}")

    assert response.status_code == 200
    body = response.json()
    totals = body["totals"]
    assert totals["users"] == 2
    assert totals["runs"] == 4
    assert (totals["dau"], totals["wau"], totals["mau"]) == (2, 2, 2)
    assert totals["active_users"] == 2
    assert totals["new_users"] == 2  # both joined today
    assert totals["new_users_active_first_day"] == 2
    assert totals["new_users_first_day_runs"] == 3
    assert body["providers"] == ["local", "openai"]
    assert body["series"][-1]["by_provider"] == {"local": 2, "openai": 1}
    assert body["series"][-4]["by_provider"] == {"local": 1, "openai": 0}
    assert body["errors"] == [{"error_code": "rate_limited", "provider": "local", "runs": 1}]
    assert body["latency_by_provider"] == [
        {"provider": "local", "p50_ttft_ms": 40, "p95_ttft_ms": 50, "p50_latency_ms": _ms(300),
         "p95_latency_ms": _ms(500)},
        {"provider": "openai", "p50_ttft_ms": _ms(200), "p95_ttft_ms": _ms(200), "p50_latency_ms": _ms(900),
         "p95_latency_ms": _ms(900)},
    ]  # fmt: skip
    assert _series(body, "active_users")[-1] == 2
    assert _series(body, "new_users")[-1] == 2


def test_platform_top_templates_and_challenges(user, make_user, provider):
    staff = make_user("staffer", is_staff=True)
    popular = template_create(owner=user, title="Popular", content="Hi {{ a }}", visibility="public")
    quiet = template_create(owner=user, title="Quiet", content="Yo {{ a }}", visibility="public")
    for _ in range(3):
        make_run(user, NOW, template=popular)
    make_run(staff, NOW, template=quiet)
    challenge = make_challenge(user)
    make_attempt(staff, challenge, NOW, passed=True, score=500)

    body = client_for(staff).get("/api/v1/insights/platform/?days=1&tz=UTC").json()

    assert [(t["title"], t["runs"]) for t in body["top_templates"]] == [("Popular", 3), ("Quiet", 1)]
    assert [(c["slug"], c["attempts"], c["pass_rate"]) for c in body["top_challenges"]] == [(challenge.slug, 1, 1.0)]
