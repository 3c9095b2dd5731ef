"""Graded challenge attempts: the award table, idempotency, skill points, solving badges, races."""

import pytest
from django.db.models import Sum

from game import selectors
from game.models import Activity, BadgeUnlock, ChallengeBest, PlayerStats, XPEvent
from game.services import ChallengeAward, activity_record

pytestmark = pytest.mark.django_db


def xp_reasons(user) -> list[tuple[str, int]]:
    return list(XPEvent.objects.filter(user=user).order_by("id").values_list("reason", "amount"))


def badges(user) -> list[str]:
    return sorted(BadgeUnlock.objects.filter(user=user).values_list("badge", flat=True))


def test_first_pass_new_best_repeat_and_failure(user, attempt):
    first = attempt(user, "a1", score=800, prompt_tokens=30)
    better = attempt(user, "a2", score=900, prompt_tokens=35)
    shorter = attempt(user, "a3", score=900, prompt_tokens=25)  # same score, fewer tokens: a best too
    repeat = attempt(user, "a4", score=900, prompt_tokens=25)
    worse = attempt(user, "a5", score=850, prompt_tokens=10)  # under par: a badge, but no best
    failed = attempt(user, "a6", score=990, prompt_tokens=5, passed=False)

    assert first == ChallengeAward(xp_awarded=20, best=True, skill_points=800)
    assert better == ChallengeAward(xp_awarded=5, best=True, skill_points=900)
    assert shorter == ChallengeAward(xp_awarded=5, best=True, skill_points=900)
    assert repeat == worse == failed == ChallengeAward(xp_awarded=0, best=False, skill_points=900)
    assert xp_reasons(user) == [
        ("challenge.passed", 20),
        ("badge.unlocked", 10),  # First Solve
        ("challenge.best", 5),
        ("challenge.best", 5),
        ("badge.unlocked", 25),  # Under Par
    ]
    activities = Activity.objects.filter(user=user).order_by("id").values_list("activity", "idempotency_key")
    assert list(activities) == [
        ("challenge.passed", "challenge:a1"),
        ("challenge.best", "challenge:a2"),
        ("challenge.best", "challenge:a3"),
    ]
    best = ChallengeBest.objects.get(user=user, challenge="sentiment")
    assert (best.score, best.prompt_tokens, best.at_par) == (900, 25, True)  # a5 passed under par
    assert best.activity_id == Activity.objects.get(idempotency_key="challenge:a3").pk
    assert best.passed_at < best.achieved_at
    assert selectors.challenge_bests(user.pk) == {"sentiment": (900, 25)}


@pytest.mark.parametrize(
    ("difficulty", "pass_xp", "best_xp", "weight"),
    [("beginner", 20, 5, 1), ("intermediate", 50, 10, 2), ("advanced", 120, 20, 3), ("expert", 300, 40, 4)],
)
def test_xp_and_skill_weight_by_difficulty(user, attempt, difficulty, pass_xp, best_xp, weight):
    first = attempt(user, "a1", difficulty=difficulty, score=500)
    better = attempt(user, "a2", difficulty=difficulty, score=600)

    assert (first.xp_awarded, first.skill_points) == (pass_xp, 500 * weight)
    assert (better.xp_awarded, better.skill_points) == (best_xp, 600 * weight)


def test_a_second_call_for_an_attempt_answers_with_the_first_award(user, attempt):
    first = attempt(user, "a1", score=700)
    attempt(user, "a2", score=950)  # a later, better attempt

    again = attempt(user, "a1", score=700)
    repeat = attempt(user, "a3", score=600)

    assert again == first == ChallengeAward(xp_awarded=20, best=True, skill_points=700)
    assert attempt(user, "a3", score=600) == repeat == ChallengeAward(0, False, 950)
    assert XPEvent.objects.filter(user=user, reason__startswith="challenge.").count() == 2
    assert PlayerStats.objects.get(user=user).challenges_solved == 1


def test_skill_points_add_best_scores_weighted_by_the_difficulty_of_the_first_pass(user, attempt):
    attempt(user, "a1", challenge="one", score=800)
    attempt(user, "a2", challenge="two", difficulty="expert", score=500)
    # The author made "two" easier since: its best keeps the expert weight.
    award = attempt(user, "a3", challenge="two", difficulty="beginner", score=600)

    assert award == ChallengeAward(xp_awarded=5, best=True, skill_points=800 + 600 * 4)
    stats = PlayerStats.objects.get(user=user)
    assert stats.skill_points == 3200
    assert stats.last_skill_activity_id == Activity.objects.get(idempotency_key="challenge:a3").pk
    user.refresh_from_db()
    assert user.experience_points == 20 + 300 + 5 + 10  # passes, best, First Solve


def test_a_best_with_fewer_tokens_only_keeps_the_skill_tie_of_the_score_it_first_reached(user, attempt):
    attempt(user, "a1", score=900, prompt_tokens=30)
    reached = PlayerStats.objects.get(user=user).last_skill_activity_id

    attempt(user, "a2", score=900, prompt_tokens=20)

    assert PlayerStats.objects.get(user=user).last_skill_activity_id == reached


def test_new_best_xp_stops_at_its_daily_cap(user, attempt):
    awards = [attempt(user, f"a{i}", score=100 + i) for i in range(13)]

    assert [a.xp_awarded for a in awards] == [20] + [5] * 10 + [0, 0]
    assert all(a.best for a in awards)
    assert awards[-1].skill_points == 112


def test_bad_input_is_refused_before_anything_is_written(user, attempt):
    for fields in ({"difficulty": "legendary"}, {"challenge": "no spaces"}, {"score": 1001}, {"prompt_tokens": -1}):
        with pytest.raises(ValueError):
            attempt(user, "a1", **fields)
    with pytest.raises(ValueError):
        attempt(user, "")

    assert not ChallengeBest.objects.exists() and not Activity.objects.exists()


def test_challenge_activities_only_come_through_their_service(user):
    with pytest.raises(ValueError, match="unknown activity"):
        activity_record(user_id=user.pk, activity="challenge.passed", idempotency_key="x", data={})


def test_passing_and_new_bests_keep_the_streak(user, attempt):
    attempt(user, "a1")

    stats = PlayerStats.objects.get(user=user)
    assert (stats.streak_days, stats.challenges_solved) == (1, 1)


# --- badges -----------------------------------------------------------------------------------


def test_first_solve_and_ten_and_fifty_solved(user, attempt):
    for i in range(50):
        attempt(user, f"a{i}", challenge=f"c{i}")
        if i in (0, 9, 49):
            unlocked = {"solver-1"} | ({"solver-10"} if i >= 9 else set()) | ({"solver-50"} if i == 49 else set())
            assert set(badges(user)) == unlocked, i

    assert PlayerStats.objects.get(user=user).challenges_solved == 50


def test_a_whole_track_unlocks_when_its_last_challenge_is_solved(user, attempt):
    track = ["intro", "delimiters", "few-shot"]
    attempt(user, "a1", challenge="intro", track_challenges=track)
    attempt(user, "a2", challenge="elsewhere", track_challenges=["elsewhere", "other"])
    attempt(user, "a3", challenge="few-shot", track_challenges=track)
    assert "track-1" not in badges(user)

    attempt(user, "a4", challenge="delimiters", track_challenges=track)

    assert "track-1" in badges(user)
    assert PlayerStats.objects.get(user=user).tracks_completed == 1


def test_a_score_of_1000_unlocks_flawless_once(user, attempt):
    attempt(user, "a1", challenge="one", score=999)
    assert "perfect-1" not in badges(user)

    attempt(user, "a2", challenge="one", score=1000)
    attempt(user, "a3", challenge="one", score=1000, prompt_tokens=10)

    assert "perfect-1" in badges(user)
    assert PlayerStats.objects.get(user=user).challenges_perfect == 1


def test_solving_at_par_unlocks_under_par_even_from_an_attempt_that_is_not_a_best(user, attempt):
    attempt(user, "a1", score=900, prompt_tokens=30, par_tokens=20)
    assert "under-par" not in badges(user)

    award = attempt(user, "a2", score=700, prompt_tokens=20, par_tokens=20)  # at par, lower score
    attempt(user, "a3", challenge="other", score=700, prompt_tokens=5, par_tokens=20)

    assert not award.best
    assert "under-par" in badges(user)
    assert PlayerStats.objects.get(user=user).challenges_under_par == 2
    assert ChallengeBest.objects.get(challenge="sentiment").at_par


def test_selectors_count_solvers_per_challenge(make_user, attempt):
    alice, bob = make_user("alice"), make_user("bob")
    attempt(alice, "a1", challenge="one")
    attempt(bob, "b1", challenge="one")
    attempt(bob, "b2", challenge="two")
    attempt(bob, "b3", challenge="three", passed=False)

    assert selectors.challenge_solvers_count("one") == 2
    assert selectors.challenge_solvers_count("three") == 0
    assert selectors.challenge_solvers_counts(["one", "two", "three"]) == {"one": 2, "two": 1}


# --- races ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_of_one_user_never_double_award(make_user, attempt, threads):
    user = make_user("racer")

    results = threads(lambda i: attempt(user, f"a{i}", score=500 + 10 * i), 8)

    assert all(isinstance(r, ChallengeAward) for r in results), results
    assert sum(r.xp_awarded == 20 for r in results) == 1  # one first pass
    assert XPEvent.objects.filter(user=user, reason="challenge.passed").count() == 1
    assert badges(user) == ["solver-1"]
    best = ChallengeBest.objects.get(user=user)
    stats = PlayerStats.objects.get(user=user)
    assert (best.score, stats.skill_points, stats.challenges_solved) == (570, 570, 1)
    assert max(r.skill_points for r in results) == 570
    user.refresh_from_db()
    assert user.experience_points == XPEvent.objects.filter(user=user).aggregate(s=Sum("amount"))["s"]
    assert user.experience_points == sum(r.xp_awarded for r in results) + 10  # and First Solve


@pytest.mark.django_db(transaction=True)
def test_parallel_calls_for_one_attempt_record_it_once(make_user, attempt, threads):
    user = make_user("retry")

    results = threads(lambda i: attempt(user, "same", score=640), 6)

    assert results == [ChallengeAward(xp_awarded=20, best=True, skill_points=640)] * 6
    assert Activity.objects.filter(user=user).count() == 1
    assert PlayerStats.objects.get(user=user).challenges_solved == 1
