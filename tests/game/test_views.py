"""Game REST endpoints: shapes per the contract, validation, and only the caller's own data."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from game.leaderboards.rebuild import leaderboard_rebuild
from game.rules import RUN_MIN_OUTPUT_TOKENS
from game.services import activity_record, credits_spend, xp_award

pytestmark = pytest.mark.django_db
RUN = {"output_tokens": RUN_MIN_OUTPUT_TOKENS}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_endpoints_need_authentication(api_client):
    for path in ("profile/", "badges/", "leaderboard/", "xp-events/", "credits/"):
        assert api_client.get(f"/api/v1/game/{path}").status_code == 401


def test_profile_shows_progress_streak_and_badges(user, auth_client):
    activity_record(
        user_id=user.pk, activity="run.completed", idempotency_key="run:1", data={"provider": "local", **RUN}
    )

    body = auth_client.get("/api/v1/game/profile/").json()

    badge = body.pop("badges")
    assert body == {
        "experience_points": 45,
        "level": 1,
        "user_rank": "Prompt Novice",
        "credits": 105,
        "level_xp": 0,
        "next_level_xp": 100,
        "xp_to_next_level": 55,
        "streak": {"days": 1, "best": 1, "freezes": 0, "last_active_date": body["streak"]["last_active_date"]},
    }
    assert [(b["slug"], b["progress"], b["target"]) for b in badge] == [("first-run", 1, 1)]


def test_badges_list_every_badge_with_progress_and_unlock_time(user, auth_client):
    for i in range(3):
        activity_record(user_id=user.pk, activity="run.completed", idempotency_key=f"run:{i}", data=RUN)

    body = auth_client.get("/api/v1/game/badges/").json()

    assert body["count"] == 22
    by_slug = {b["slug"]: b for b in body["results"]}
    assert set(by_slug["first-run"]) == {
        "slug", "name", "description", "tier", "xp", "credits", "progress", "target", "unlocked_at",
    }  # fmt: skip
    assert by_slug["first-run"]["unlocked_at"] is not None
    assert (by_slug["runs-10"]["progress"], by_slug["runs-10"]["target"], by_slug["runs-10"]["unlocked_at"]) == (
        3,
        10,
        None,
    )
    assert (by_slug["weekly-top-10"]["progress"], by_slug["weekly-top-10"]["target"]) == (0, 1)


def test_ledgers_list_only_the_callers_rows_newest_first(user, auth_client, make_user):
    other = make_user("other")
    credits_spend(user_id=user.pk, amount=7, reason="run", idempotency_key="run:1:reserve", source="run:1")
    credits_spend(user_id=other.pk, amount=9, reason="run", idempotency_key="run:1:reserve")
    xp_award(user_id=user.pk, amount=3, reason="bonus", idempotency_key="x")
    xp_award(user_id=other.pk, amount=4, reason="bonus", idempotency_key="x")

    credits = auth_client.get("/api/v1/game/credits/").json()
    xp = auth_client.get("/api/v1/game/xp-events/").json()

    assert [(r["delta"], r["balance_after"], r["reason"], r["source"]) for r in credits["results"]] == [
        (-7, 93, "run", "run:1"),
        (100, 100, "welcome", ""),
    ]
    assert credits["count"] == 2
    assert [(r["amount"], r["total_after"], r["reason"]) for r in xp["results"]] == [(3, 3, "bonus")]


def test_leaderboard_pages_and_the_window_around_me(make_user):
    users = [make_user(f"u{i}") for i in range(15)]
    for i, player in enumerate(users):
        xp_award(user_id=player.pk, amount=10 * (i + 1), reason="bonus", idempotency_key="x")
    leaderboard_rebuild()
    me = users[4]  # 50 XP: rank 11 of 15

    body = client_for(me).get("/api/v1/game/leaderboard/?board=all-time&around=me&radius=2").json()

    assert body["board"] == "all-time"
    assert body["count"] == 15
    assert body["previous"] is None
    assert body["next"].endswith("/api/v1/game/leaderboard/?board=all-time&around=me&radius=2&page=2")
    assert [(e["rank"], e["user"]["username"], e["score"]) for e in body["results"]][:3] == [
        (1, "u14", 150),
        (2, "u13", 140),
        (3, "u12", 130),
    ]
    assert len(body["results"]) == 10
    assert body["me"] == {"rank": 11, "score": 50}
    assert [(e["rank"], e["user"]["username"]) for e in body["around"]] == [
        (9, "u6"),
        (10, "u5"),
        (11, "u4"),
        (12, "u3"),
        (13, "u2"),
    ]
    assert set(body["results"][0]["user"]) == {"id", "username", "avatar_url"}


def test_leaderboard_without_redis_ready_answers_the_same_from_sql(make_user):
    users = [make_user(f"u{i}") for i in range(3)]
    for i, player in enumerate(users):
        xp_award(user_id=player.pk, amount=10 * (i + 1), reason="bonus", idempotency_key="x")

    body = client_for(users[0]).get("/api/v1/game/leaderboard/?board=weekly&around=me").json()

    assert [(e["rank"], e["user"]["username"], e["score"]) for e in body["results"]] == [
        (1, "u2", 30),
        (2, "u1", 20),
        (3, "u0", 10),
    ]
    assert body["me"] == {"rank": 3, "score": 10}
    assert [e["rank"] for e in body["around"]] == [1, 2, 3]


@pytest.mark.parametrize("rebuilt", [True, False])
def test_skill_board_ranks_weighted_best_scores_with_the_window_around_me(make_user, attempt, rebuilt):
    users = [make_user(f"u{i}") for i in range(4)]
    for i, player in enumerate(users):
        attempt(player, f"a{i}", challenge="one", score=100 * (i + 1))
    attempt(users[0], "b0", challenge="two", difficulty="expert", score=50)  # 100 + 50 x 4, after u2 had 300
    if rebuilt:
        leaderboard_rebuild()

    body = client_for(users[0]).get("/api/v1/game/leaderboard/?board=skill&around=me&radius=1").json()

    assert (body["board"], body["count"], body["next"], body["me"]) == ("skill", 4, None, {"rank": 3, "score": 300})
    assert [(e["rank"], e["user"]["username"], e["score"]) for e in body["results"]] == [
        (1, "u3", 400),
        (2, "u2", 300),
        (3, "u0", 300),
        (4, "u1", 200),
    ]
    assert [e["user"]["username"] for e in body["around"]] == ["u2", "u0", "u1"]
    assert set(body["results"][0]) == {"rank", "user", "score"}


def test_unranked_caller_has_no_rank(auth_client):
    body = auth_client.get("/api/v1/game/leaderboard/?board=monthly&around=me").json()

    assert (body["count"], body["results"], body["me"], body["around"]) == (0, [], None, [])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("board=daily", "board"),
        ("board=challenge-one", "board"),  # challenge boards: challenges/{slug}/leaderboard/
        ("board=weekly&around=you", "around"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page=abc", "page"),
        ("radius=99", "radius"),
    ],
)
def test_leaderboard_rejects_bad_parameters_with_field_errors(auth_client, query, field):
    response = auth_client.get(f"/api/v1/game/leaderboard/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_staff_award_xp_once_per_key(make_user):
    staff, player = make_user("staff", is_staff=True), make_user("player")
    payload = {"user": str(player.pk), "amount": 150, "reason": "contest.win", "idempotency_key": "contest-7"}

    first = client_for(staff).post("/api/v1/game/awards/", payload)
    again = client_for(staff).post("/api/v1/game/awards/", payload)

    assert first.status_code == 201
    assert first.json() == {
        "event_id": first.json()["event_id"],
        "amount": 150,
        "total_xp": 150,
        "level": 2,
        "created": True,
    }
    assert (again.status_code, again.json()["created"], again.json()["event_id"]) == (
        200,
        False,
        first.json()["event_id"],
    )
    player.refresh_from_db()
    assert (player.experience_points, player.level) == (150, 2)


@pytest.mark.parametrize("change", [{"amount": 151}, {"reason": "contest.second"}], ids=["amount", "reason"])
def test_the_same_award_key_with_a_different_body_is_a_409_and_awards_nothing(make_user, change):
    staff, player = make_user("staff", is_staff=True), make_user("player")
    payload = {"user": str(player.pk), "amount": 150, "reason": "contest.win", "idempotency_key": "contest-7"}
    client_for(staff).post("/api/v1/game/awards/", payload)

    reused = client_for(staff).post("/api/v1/game/awards/", {**payload, **change})

    assert reused.status_code == 409
    assert reused.json() == {
        "detail": "The key was used for an award of 150 XP for 'contest.win'.",
        "code": "idempotency_conflict",
    }
    player.refresh_from_db()
    assert player.experience_points == 150


def test_awards_are_staff_only_and_validated(make_user):
    staff, player = make_user("staff", is_staff=True), make_user("player")

    forbidden = client_for(player).post(
        "/api/v1/game/awards/", {"user": str(player.pk), "amount": 5, "idempotency_key": "k"}
    )
    bad = client_for(staff).post("/api/v1/game/awards/", {"user": "nope", "amount": 0, "reason": "Bad Reason!"})
    unknown = client_for(staff).post(
        "/api/v1/game/awards/", {"user": "00000000-0000-0000-0000-000000000000", "amount": 5, "idempotency_key": "k"}
    )

    assert forbidden.status_code == 403
    assert bad.status_code == 400
    assert set(bad.json()) == {"user", "amount", "reason", "idempotency_key"}
    assert (unknown.status_code, unknown.json()) == (400, {"user": ["Unknown user."]})
