"""Which graded attempts the game hears of: public challenges by someone else, and nothing else."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from challenges import services
from game import selectors as game_selectors
from game.models import Activity, XPEvent
from tests.challenges.support import PROMPT, make_challenge
from tests.llm.runs_support import response_json, set_credits

pytestmark = [pytest.mark.django_db(transaction=True)]


def attempt(client, slug: str) -> dict:
    response = client.post(f"/api/v1/challenges/{slug}/attempts/", {"prompt": PROMPT}, format="json")
    assert response.status_code == 201
    return response_json(response)


def client_of(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return api_client


def game_heard_of(user) -> dict:
    """What the game keeps of the user's challenge attempts."""
    return {
        "activities": sorted(
            Activity.objects.filter(user=user, activity__startswith="challenge.").values_list("activity", flat=True)
        ),
        "xp": sum(XPEvent.objects.filter(user=user).values_list("amount", flat=True)),
        "bests": game_selectors.challenge_bests(user.pk),
        "skill_points": game_selectors.player_stats(user).skill_points,
    }


NOTHING = {"activities": [], "xp": 0, "bests": {}, "skill_points": 0}


def test_an_attempt_at_your_own_private_challenge_is_graded_and_kept_but_earns_nothing(auth_client, user, provider):
    challenge = make_challenge(user)

    body = attempt(auth_client, challenge.slug)

    assert (body["status"], body["passed"], body["score"]) == ("completed", True, 1000)
    assert (body["xp_awarded"], body["best"]) == (0, False)
    assert game_heard_of(user) == NOTHING
    assert game_selectors.challenge_leaderboard(challenge.slug) == []
    assert auth_client.get(f"/api/v1/attempts/{body['id']}/").json()["score"] == 1000


def test_your_own_public_challenge_earns_you_nothing_and_others_their_due(
    auth_client, api_client, user, make_user, provider
):
    challenge = make_challenge(user)
    attempt(auth_client, challenge.slug)  # the author's pass, needed to publish
    services.challenge_update(challenge=challenge, actor=user, visibility="public")
    bob = make_user("bob")
    set_credits(bob, 1000)

    own = attempt(auth_client, challenge.slug)
    theirs = attempt(client_of(api_client, bob), challenge.slug)

    assert (own["xp_awarded"], own["best"]) == (0, False)
    assert game_heard_of(user) == NOTHING
    assert (theirs["xp_awarded"], theirs["best"]) == (20, True)  # a first beginner pass
    assert game_heard_of(bob)["activities"] == ["challenge.passed"]
    assert game_heard_of(bob)["bests"] == {challenge.slug: (1000, theirs["prompt_tokens"])}
    assert [entry["user"]["username"] for entry in game_selectors.challenge_leaderboard(challenge.slug)] == ["bob"]


def test_a_challenge_made_private_while_an_attempt_ran_does_not_count(auth_client, user, make_user, provider):
    from challenges import attempts

    author = make_user("carol")
    challenge = make_challenge(author)
    challenge.visibility = "public"
    challenge.save(update_fields=["visibility"])
    started = attempts.attempt_create(user=user, challenge=challenge.slug, prompt=PROMPT)
    for job in started.jobs:
        attempts.attempt_run_start(attempt_id=started.attempt.pk, user_id=user.pk, job=job)
    challenge.visibility = "private"  # the author's new version, say
    challenge.save(update_fields=["visibility"])
    graded = [attempts.GradedSample(job.case_id, job.sample, True, "ok", []) for job in started.jobs]

    settled = attempts.attempt_settle(attempt_id=started.attempt.pk, graded=graded, status="completed")

    assert (settled.passed, settled.score, settled.xp_awarded) == (True, 1000, 0)
    assert game_heard_of(user) == NOTHING


def test_the_case_runs_of_an_attempt_earn_no_run_xp(auth_client, user, provider):
    challenge = make_challenge(None, builtin=True)

    body = attempt(auth_client, challenge.slug)

    assert body["xp_awarded"] == 20
    assert not Activity.objects.filter(user=user, activity="run.completed").exists()
    reasons = set(XPEvent.objects.filter(user=user).values_list("reason", flat=True))
    assert not {reason for reason in reasons if reason.startswith("run.")}
