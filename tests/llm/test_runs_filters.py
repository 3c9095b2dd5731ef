"""Run history filters: model, status, template, dates (in the user's time zone), prompt search; bad values are 400."""

from datetime import UTC, datetime

import pytest

from llm.models import LLMRun
from prompts import services as prompt_services
from tests.llm.runs_support import TEST_MODEL

pytestmark = [pytest.mark.django_db]

URL = "/api/v1/llm/runs/"


def _run(user, *, at: datetime, **fields) -> LLMRun:
    fields = {"model": TEST_MODEL, "prompt": "p", "status": "completed", **fields}
    run = LLMRun.objects.create(user=user, **fields)
    LLMRun.objects.filter(pk=run.pk).update(created_at=at)  # auto_now_add: set afterwards
    return run


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [run["id"] for run in response.json()["results"]]


@pytest.fixture
def history(user, make_user):
    template = prompt_services.template_create(owner=user, title="Greeter", content="Hi {{name}}")
    runs = {
        "old": _run(user, at=datetime(2026, 11, 1, 12, tzinfo=UTC), prompt="Summarise the ARTICLE"),
        "failed": _run(user, at=datetime(2026, 11, 20, 23, 30, tzinfo=UTC), status="failed", model="local:other"),
        "templated": _run(user, at=datetime(2026, 11, 21, 8, tzinfo=UTC), template=template, prompt="Hi Ada"),
        "sealed": _run(user, at=datetime(2026, 11, 21, 9, tzinfo=UTC), prompt="hidden article", sealed=True),
    }
    mallory = make_user("mallory")
    runs["theirs"] = _run(mallory, at=datetime(2026, 11, 21, 9, tzinfo=UTC), prompt="their article")
    return runs, template


def test_each_filter_narrows_the_history(auth_client, history):
    runs, template = history

    assert _ids(auth_client.get(URL, {"model": "local:other"})) == [str(runs["failed"].pk)]
    assert _ids(auth_client.get(URL, {"status": "failed"})) == [str(runs["failed"].pk)]
    assert _ids(auth_client.get(URL, {"template": str(template.pk)})) == [str(runs["templated"].pk)]
    # Case-insensitive, in the prompt; the sealed run and other users' runs never match.
    assert _ids(auth_client.get(URL, {"search": "article"})) == [str(runs["old"].pk)]
    assert _ids(auth_client.get(URL, {"search": "nothing like it"})) == []


def test_filters_combine(auth_client, history):
    runs, _ = history

    both = auth_client.get(URL, {"status": "completed", "created_after": "2026-11-15"})

    assert _ids(both) == [str(runs["templated"].pk)]


def test_dates_are_days_of_the_users_time_zone_and_datetimes_exact(auth_client, user, history):
    runs, _ = history

    # UTC: 20 November holds the failed run (23:30), the 21st the template run.
    assert _ids(auth_client.get(URL, {"created_after": "2026-11-20", "created_before": "2026-11-20"})) == [
        str(runs["failed"].pk)
    ]
    user.timezone = "Europe/Berlin"  # 23:30 UTC on the 20th is 00:30 on the 21st there
    user.save(update_fields=["timezone"])
    assert _ids(auth_client.get(URL, {"created_after": "2026-11-21", "created_before": "2026-11-21"})) == [
        str(runs["templated"].pk),
        str(runs["failed"].pk),
    ]
    window = {"created_after": "2026-11-21T07:59:00Z", "created_before": "2026-11-21T08:00:01+00:00"}
    exact = auth_client.get(URL, window)
    assert _ids(exact) == [str(runs["templated"].pk)]


def test_bad_filter_values_are_400_naming_the_field(auth_client, history):
    cases = {
        "status": {"status": "exploded"},
        "template": {"template": "not-a-uuid"},
        "created_after": {"created_after": "yesterday"},
        "search": {"search": "x" * 201},
        "model": {"model": "m" * 101},
    }
    for field, params in cases.items():
        response = auth_client.get(URL, params)
        assert response.status_code == 400, (field, response.content)
        assert list(response.json()) == [field]

    reversed_range = auth_client.get(URL, {"created_after": "2026-11-21", "created_before": "2026-11-20"})
    assert reversed_range.status_code == 400
    assert reversed_range.json() == {"created_before": ["Must be later than created_after."]}


def test_pages_follow_the_filters(auth_client, user):
    for i in range(5):
        _run(user, at=datetime(2026, 11, 1 + i, tzinfo=UTC), prompt=f"find me {i}")
    _run(user, at=datetime(2026, 11, 10, tzinfo=UTC), prompt="other")

    first = auth_client.get(URL, {"search": "find", "page_size": 2}).json()
    last = auth_client.get(URL, {"search": "find", "page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [run["prompt"] for run in first["results"]] == ["find me 4", "find me 3"]
    assert "search=find" in first["next"] and first["previous"] is None
    assert [run["prompt"] for run in last["results"]] == ["find me 0"]
    assert last["next"] is None


def test_a_filtered_page_is_three_queries(auth_client, history, django_assert_num_queries):
    with django_assert_num_queries(3):  # the token's user, the count, the page
        response = auth_client.get(URL, {"search": "hi", "status": "completed", "created_after": "2026-11-01"})

    assert response.status_code == 200


def test_others_runs_are_404_and_sealed_runs_are_not_found(auth_client, history):
    runs, _ = history

    assert auth_client.get(f"{URL}{runs['theirs'].pk}/").status_code == 404
    assert auth_client.get(f"{URL}{runs['sealed'].pk}/").status_code == 404
    assert auth_client.get(f"{URL}{runs['old'].pk}/").status_code == 200


def test_dates_at_the_ends_of_the_calendar_are_400_or_compared_in_utc(auth_client, history):
    for value in ("9999-12-31", "0001-01-01", "9999-12-31T23:59:59-14:00"):
        response = auth_client.get(URL, {"created_before": value})
        assert response.status_code == 400, value
        assert list(response.json()) == ["created_before"]
    # An offset the database would refuse (beyond ±15:59) is read as the UTC moment it names.
    far = auth_client.get(URL, {"created_after": "2026-11-21T17:00:00+17:09"})
    assert _ids(far) == [str(history[0]["templated"].pk)]
