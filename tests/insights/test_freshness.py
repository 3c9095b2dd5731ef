"""Cached insights documents: served from the cache without reading the data, and never after a committed
write that changes them (each write below moves its scope's generation on once it commits)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from challenges.attempts import GradedSample, attempt_settle
from challenges.models import AttemptSample, AttemptStatus
from game.services import xp_award
from insights import freshness
from insights.rollups import rollup_range, rollup_recent
from llm import services as llm_services
from llm.models import LLMRun, RunStatus
from prompts.services import template_create, template_fork, template_rate, template_record_use
from tests.challenges.support import make_challenge
from tests.insights.support import client_for, make_attempt, make_run

pytestmark = pytest.mark.django_db

ME = "/api/v1/insights/me/?days=1&tz=UTC"
PLATFORM = "/api/v1/insights/platform/?days=1&tz=UTC"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block's on-commit hooks at its end, as its transactions' commits would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def staff(make_user):
    return make_user("staffer", is_staff=True)


def _totals(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()["totals"]


def test_a_cached_document_is_served_without_reading_the_data(user, committed):
    client = client_for(user)
    with committed():
        make_run(user, datetime.now(UTC), output_tokens=7)
    first = client.get(ME)

    with CaptureQueriesContext(connection) as queries:
        again = client.get(ME)

    assert again.status_code == 200
    assert again["Content-Type"] == "application/json"
    assert again.content == first.content
    assert again.json()["totals"]["output_tokens"] == 7
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert len(queries.captured_queries) <= 1, tables  # the caller's user row (authentication)
    for table in ("llm_llmrun", "insights_", "game_", "challenges_"):
        assert table not in tables


def test_a_settled_run_shows_at_once(user, committed):
    client = client_for(user)
    with committed():
        run = make_run(user, datetime.now(UTC), status=RunStatus.RUNNING)
    assert _totals(client, ME)["completed"] == 0
    assert _totals(client, ME)["completed"] == 0  # cached

    with committed():
        llm_services.run_settle(
            run_id=run.pk, outcome=llm_services.RunOutcome(status="completed", output="hi", produced_tokens=3)
        )

    assert _totals(client, ME)["completed"] == 1


def test_a_new_run_and_an_xp_award_show_at_once(user, committed):
    client = client_for(user)
    assert _totals(client, ME)["runs"] == 0
    with committed():
        make_run(user, datetime.now(UTC))
    assert _totals(client, ME)["runs"] == 1

    with committed():
        xp_award(user_id=user.pk, amount=5, reason="manual", idempotency_key="fresh-xp")
    assert _totals(client, ME)["xp_earned"] == 5


def test_runs_started_in_bulk_show_at_once(user, committed, provider):
    # a batch's runs are written by one bulk INSERT, which sends no post_save
    client = client_for(user)
    assert _totals(client, ME)["runs"] == 0
    plan = llm_services.run_prepare(user=user, model="test:echo", prompt="Say hi")
    batch = uuid.uuid4()
    with committed():
        llm_services.batch_open(user_id=user.pk, batch_id=batch, runs=2, max_seconds=60, model_id="test:echo")
        llm_services.batch_runs_start(user_id=user.pk, batch_id=batch, plans=[(plan, True), (plan, True)])
    assert _totals(client, ME)["runs"] == 2


def test_an_uncommitted_write_leaves_the_cached_document(user, django_capture_on_commit_callbacks):
    client = client_for(user)
    assert _totals(client, ME)["runs"] == 0
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        make_run(user, datetime.now(UTC))
    assert hooks  # the write's hook waits for its commit
    assert _totals(client, ME)["runs"] == 0


def test_a_sign_up_shows_on_the_platform_at_once(staff, make_user, committed):
    client = client_for(staff)
    before = _totals(client, PLATFORM)
    assert _totals(client, PLATFORM) == before

    with committed():
        make_user("newcomer")

    after = _totals(client, PLATFORM)
    assert after["users"] == before["users"] + 1
    assert after["new_users"] == before["new_users"] + 1


def test_runs_and_attempts_show_on_the_platform_at_once(staff, user, committed, provider):
    client = client_for(staff)
    challenge = make_challenge(user)
    assert _totals(client, PLATFORM)["runs"] == 0
    with committed():
        make_run(user, datetime.now(UTC))
    assert _totals(client, PLATFORM)["runs"] == 1
    assert client.get(PLATFORM).json()["top_challenges"] == []
    with committed():
        make_attempt(user, challenge, datetime.now(UTC), passed=True, score=500)
    assert [c["slug"] for c in client.get(PLATFORM).json()["top_challenges"]] == [challenge.slug]


def test_a_rating_a_fork_and_a_use_change_the_authors_document_at_once(user, make_user, committed):
    with committed():
        template = template_create(owner=user, title="Haiku", content="Write a haiku", visibility="public")
    client = client_for(user)
    url = f"/api/v1/insights/templates/{template.pk}/?days=1&tz=UTC"
    assert _totals(client, url)["rating_count"] == 0

    rater = make_user("rater")
    with committed():
        template_rate(template=template, user=rater, score=4)
    totals = _totals(client, url)
    assert (totals["rating_count"], totals["rating_avg"]) == (1, 4.0)

    with committed():
        template_rate(template=template, user=rater, score=2)  # a changed score
    assert _totals(client, url)["rating_avg"] == 2.0

    with committed():
        template_fork(template=template, user=rater)
    assert _totals(client, url)["forks_count"] == 1

    with committed():
        template_record_use(template_id=template.pk, user_id=rater.pk)  # an UPDATE: no post_save
    assert _totals(client, url)["usage_count"] == 1


def test_a_settled_attempt_changes_its_authors_document_at_once(user, make_user, committed, provider):
    challenge = make_challenge(user)
    case_id = challenge.cases[0]["id"]
    learner = make_user("learner")
    with committed():
        attempt = make_attempt(learner, challenge, datetime.now(UTC), passed=False)
    type(attempt).objects.filter(pk=attempt.pk).update(status=AttemptStatus.RUNNING)
    AttemptSample.objects.create(attempt=attempt, case_id=case_id, sample=0)
    client = client_for(user)
    url = f"/api/v1/insights/challenges/{challenge.slug}/?days=1&tz=UTC"
    assert client.get(url).json()["failing_cases"] == []

    with committed():
        attempt_settle(
            attempt_id=attempt.pk,
            graded=[GradedSample(case_id=case_id, sample=0, passed=False, output="no", checks=[])],
            status=AttemptStatus.FAILED,
        )

    assert [(c["case_id"], c["failed"]) for c in client.get(url).json()["failing_cases"]] == [(case_id, 1)]


def test_a_rollup_moves_every_document_on(user, committed):
    # a late correction of history written straight to the raw table (no signal): cached until rolled up
    day = datetime(2026, 5, 5, 8, tzinfo=UTC)
    make_run(user, day)
    late = make_run(user, day - timedelta(days=30))
    with committed():
        rollup_recent(now=datetime(2026, 5, 10, tzinfo=UTC))
    client = client_for(user)
    url = "/api/v1/insights/me/?from=2026-05-05&to=2026-05-05&tz=UTC"
    assert _totals(client, url)["runs"] == 1

    LLMRun.objects.filter(pk=late.pk).update(created_at=day + timedelta(hours=1))
    assert _totals(client, url)["runs"] == 1

    with committed():
        rollup_range(start=datetime(2026, 5, 5, tzinfo=UTC), end=datetime(2026, 5, 6, tzinfo=UTC))
    assert _totals(client, url)["runs"] == 2


def test_a_lost_generation_never_revives_an_old_document(user):
    # generations are random: one that expired or was evicted comes back as a new value
    client = client_for(user)
    make_run(user, datetime.now(UTC))
    assert _totals(client, ME)["runs"] == 1
    make_run(user, datetime.now(UTC))  # its hook never runs (the test's transaction never commits)

    cache.delete(freshness.generation_key(freshness.user(user.pk)))

    assert _totals(client, ME)["runs"] == 2


def test_platform_insights_stay_staff_only_and_other_templates_404_when_cached(user, make_user, staff):
    template = template_create(owner=user, title="Mine", content="Say hi", visibility="public")
    assert client_for(staff).get(PLATFORM).status_code == 200  # cached now
    assert client_for(user).get(f"/api/v1/insights/templates/{template.pk}/?days=1").status_code == 200

    assert client_for(user).get(PLATFORM).status_code == 403
    assert client_for(make_user("other")).get(f"/api/v1/insights/templates/{template.pk}/?days=1").status_code == 404
    for _ in range(2):  # a validated query is remembered; a bad one never is
        bad = client_for(staff).get(PLATFORM + "&bucket=year")
        assert bad.status_code == 400 and "bucket" in bad.json()


def test_the_browsable_api_still_renders_a_cached_document(user):
    client = client_for(user)
    body = client.get(ME).json()

    page = client.get(ME, HTTP_ACCEPT="text/html")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert str(body["totals"]["runs"]) in page.content.decode()
    assert client.get(ME).json() == body
