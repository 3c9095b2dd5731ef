"""The admin: every page opens; an edit of a built-in goes through the services as a new version."""

import json

import pytest

from challenges import demo
from challenges.models import Attempt, Challenge

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def builtin():
    demo.load()
    return Challenge.objects.filter(builtin=True).first()


def change_form(challenge: Challenge, **changes) -> dict:
    values = {
        "title": challenge.title,
        "summary": challenge.summary,
        "brief": challenge.brief,
        "track": challenge.track,
        "technique": challenge.technique,
        "difficulty": challenge.difficulty,
        "cases": json.dumps(challenge.cases),
        "samples": challenge.samples,
        "pass_threshold": challenge.pass_threshold,
        "par_tokens": challenge.par_tokens,
        "allowed_models": json.dumps(challenge.allowed_models),
        "default_model": challenge.default_model,
        "params": json.dumps(challenge.params),
        "hints": json.dumps(challenge.hints),
        "system": challenge.system,
        "reference_prompt": challenge.reference_prompt,
        "reference_system": challenge.reference_system,
        "naive_prompt": challenge.naive_prompt,
        "visibility": challenge.visibility,
        "versions-TOTAL_FORMS": "1",
        "versions-INITIAL_FORMS": "1",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
        "versions-0-id": str(challenge.versions.get().pk),
        "versions-0-challenge": str(challenge.pk),
    }
    return {**values, **changes}


def test_every_challenges_admin_page_opens(admin_client, builtin, user):
    Attempt.objects.create(user=user, challenge=builtin, version=builtin.versions.get(), model="m", prompt="p")
    pages = [
        "/admin/challenges/challenge/",
        f"/admin/challenges/challenge/{builtin.pk}/change/",
        "/admin/challenges/attempt/",
        f"/admin/challenges/attempt/{Attempt.objects.get().pk}/change/",
    ]

    assert [admin_client.get(page).status_code for page in pages] == [200] * len(pages)


def test_an_admin_edit_of_what_is_graded_saves_a_new_version(admin_client, builtin):
    url = f"/admin/challenges/challenge/{builtin.pk}/change/"

    response = admin_client.post(url, change_form(builtin, par_tokens=builtin.par_tokens + 5, title="Renamed"))

    assert response.status_code == 302
    builtin.refresh_from_db()
    assert (builtin.title, builtin.version) == ("Renamed", 2)
    assert list(builtin.versions.values_list("number", "par_tokens")) == [
        (1, builtin.par_tokens - 5),
        (2, builtin.par_tokens),
    ]


def test_an_admin_edit_with_a_bad_check_is_refused_naming_it(admin_client, builtin):
    url = f"/admin/challenges/challenge/{builtin.pk}/change/"
    cases = [{**builtin.cases[0], "checks": [{"type": "regex", "value": "("}]}, *builtin.cases[1:]]

    response = admin_client.post(url, change_form(builtin, cases=json.dumps(cases)))

    assert response.status_code == 200
    assert "bad regex" in response.content.decode()
    builtin.refresh_from_db()
    assert builtin.version == 1
