"""Insights charts: the profile's, a template's, a challenge's (its author) and the staff dashboard
draw the numbers the API returns, each with a table of the same numbers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from llm.models import RunStatus
from tests.browser.support import PASSWORD, log_in, private_challenge, screenshot, sign_up
from tests.insights.support import client_for, make_attempt, make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()


def _chart(page: Page, name: str) -> dict:
    """What Chart.js holds for the chart `name`: its labels and each dataset's numbers."""
    canvas = page.locator(f"[data-chart='{name}'] canvas")
    expect(canvas).to_be_attached()
    return page.evaluate(
        """(name) => {
          const chart = Chart.getChart(document.querySelector(`[data-chart='${name}'] canvas`));
          const datasets = chart.data.datasets.map((d) => ({label: d.label, data: d.data}));
          return {labels: chart.data.labels, datasets};
        }""",
        name,
    )


def _table(page: Page, name: str) -> list[list[str]]:
    rows = page.locator(f"[data-chart-table='{name}'] tbody tr")
    return [row.locator("td").all_text_contents() for row in rows.all()]


def _series(document: dict, name: str) -> list:
    return [row[name] for row in document["series"]]


def test_the_profile_charts_draw_the_learners_numbers(page):
    # given a learner with completed, failed and cancelled runs on two days
    sign_up(page, "ada")
    ada = User.objects.get(username="ada")
    now = datetime.now(UTC)
    for _ in range(3):
        make_run(ada, now, input_tokens=12, output_tokens=30, cost_credits=1, ttft_ms=120, latency_ms=900)
    make_run(ada, now, model="openai:gpt-4o-mini", status=RunStatus.FAILED, error_code="provider_error")
    make_run(ada, now - timedelta(days=2), status=RunStatus.CANCELLED, output_tokens=4)

    # when they open their profile
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("body[data-profile-ready='true']")).to_be_attached()

    # then the charts hold exactly the API's series
    document = client_for(ada).get("/api/v1/insights/me/?days=30&bucket=day").json()
    runs = _chart(page, "runs")
    assert len(runs["labels"]) == 30
    assert [d["data"] for d in runs["datasets"]] == [
        _series(document, "completed"),
        _series(document, "failed"),
        _series(document, "cancelled"),
    ]
    assert _series(document, "completed")[-1] == 3
    tokens = _chart(page, "tokens")
    assert tokens["datasets"][1]["data"] == _series(document, "output_tokens")
    models = _chart(page, "models")
    assert models["labels"] == [row["model"] for row in document["by_model"]]
    assert models["datasets"][0]["data"] == [4, 1]
    # and the table alternative has the same numbers
    assert _table(page, "runs")[-1] == ["3", "1", "0"]
    expect(page.locator("[data-streak-calendar] .day.active")).to_have_count(2)
    expect(page.locator("[data-activity-totals]")).to_contain_text("Success rate60%")

    # when they group by week, the charts follow
    page.locator("[data-activity-controls] select[name=bucket]").select_option("week")
    weekly = client_for(ada).get("/api/v1/insights/me/?days=30&bucket=week").json()
    expect(page.locator("[data-chart='runs'] canvas")).to_be_attached()
    page.wait_for_function(
        "(n) => Chart.getChart(document.querySelector(\"[data-chart='runs'] canvas\")).data.labels.length === n",
        arg=len(weekly["series"]),
    )
    assert _chart(page, "runs")["datasets"][0]["data"] == _series(weekly, "completed")
    screenshot(page, "insights-profile")


def test_a_template_owner_and_a_challenge_author_see_their_charts(page, fake_openai_server):
    from prompts.services import template_create

    sign_up(page, "grace")
    grace = User.objects.get(username="grace")
    template = template_create(owner=grace, title="Haiku", content="A haiku about {{ topic }}", visibility="public")
    learner = User.objects.create_user(username="lin", email="lin@example.com", password=PASSWORD)
    now = datetime.now(UTC)
    make_run(learner, now, template=template, cost_credits=2, output_tokens=9)
    make_run(learner, now, template=template, cost_credits=4, output_tokens=9)
    make_run(grace, now - timedelta(days=1), template=template, model="openai:gpt-4o-mini")

    page.goto(f"/library/{template.pk}/")
    document = client_for(grace).get(f"/api/v1/insights/templates/{template.pk}/?days=30&bucket=day").json()
    uses = _chart(page, "uses")
    assert uses["datasets"][0]["data"] == _series(document, "runs")
    assert uses["datasets"][1]["data"] == _series(document, "runners")
    assert _series(document, "runs")[-2:] == [1, 2]
    assert _chart(page, "models")["datasets"][0]["data"] == [row["runs"] for row in document["by_model"]]
    expect(page.locator("[data-t-usage]")).to_contain_text("Average cost2 credits")
    screenshot(page, "insights-template")

    # a challenge of grace's own, attempted by a learner: its page shows her the cases failed most
    challenge = private_challenge(grace)
    public, _, hidden, _ = (case["id"] for case in challenge.cases)
    make_attempt(learner, challenge, now, passed=False, cases={public: True, hidden: False})
    make_attempt(learner, challenge, now, passed=True, score=640, prompt_tokens=30, cases={public: True, hidden: True})
    page.goto(f"/challenges/{challenge.slug}/")
    expect(page.locator("body[data-challenge-ready='true']")).to_be_attached()
    document = client_for(grace).get(f"/api/v1/insights/challenges/{challenge.slug}/?days=30&bucket=day").json()
    attempts = _chart(page, "attempts")
    assert attempts["datasets"][0]["data"] == _series(document, "attempts")
    assert attempts["datasets"][1]["data"] == _series(document, "passed")
    cases = _chart(page, "cases")
    assert cases["labels"] == [f"{hidden} (hidden)", public]
    assert cases["datasets"][0]["data"] == [1, 0]
    expect(page.locator(f"[data-c-cases] tr[data-case='{hidden}'] td").nth(1)).to_have_text("hidden")
    expect(page.locator("[data-c-stats]")).to_contain_text("Median passing prompt30 tokens")
    screenshot(page, "insights-challenge")


def test_the_staff_dashboard_draws_the_platform(page, new_context):
    boss = User.objects.create_user(username="boss", email="boss@example.com", password=PASSWORD, is_staff=True)
    learner = User.objects.create_user(username="lin", email="lin@example.com", password=PASSWORD)
    now = datetime.now(UTC)
    make_run(learner, now, ttft_ms=150, latency_ms=800)
    make_run(learner, now, model="openai:gpt-4o-mini", ttft_ms=400, latency_ms=2000)
    make_run(boss, now - timedelta(days=3), status=RunStatus.FAILED, error_code="rate_limited")

    log_in(page, "boss", "/staff/insights/")
    expect(page.locator("body[data-platform-ready='true']")).to_be_attached()

    document = client_for(boss).get("/api/v1/insights/platform/?days=30&bucket=day").json()
    providers = _chart(page, "providers")
    assert [d["label"] for d in providers["datasets"]] == document["providers"] == ["local", "openai"]
    assert providers["datasets"][0]["data"] == [row["by_provider"]["local"] for row in document["series"]]
    assert _chart(page, "active")["datasets"][0]["data"] == _series(document, "active_users")
    latency = _chart(page, "latency")
    assert latency["labels"] == ["local", "openai"]
    assert latency["datasets"][0]["data"] == [row["p50_ttft_ms"] for row in document["latency_by_provider"]]
    expect(page.locator("[data-platform-errors] tbody tr")).to_have_text("rate_limitedlocal1")
    expect(page.locator("[data-platform-stats]")).to_contain_text("DAU1")
    screenshot(page, "insights-platform")

    # a learner gets no platform numbers
    other = new_context().new_page()
    log_in(other, "lin", "/staff/insights/")
    expect(other.locator("body[data-platform-ready='true']")).to_be_attached()
    expect(other.locator("[data-form-error]")).to_be_visible()
    expect(other.locator("[data-platform]")).to_be_hidden()
