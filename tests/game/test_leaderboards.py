"""Leaderboards (XP, skill, challenges): Redis order equals the SQL order, ties, fallback, rebuild."""

import random
from datetime import UTC, datetime

import pytest
import redis
from django.utils import timezone

from core.redis import redis_client
from game import selectors
from game.leaderboards import reads
from game.leaderboards.boards import board_key, period_bounds, ready_key
from game.leaderboards.ranking import sql_range, sql_rank
from game.leaderboards.reads import leaderboard_count, leaderboard_rank, leaderboard_top, redis_range
from game.leaderboards.rebuild import leaderboard_rebuild
from game.models import ChallengeBest
from game.services import xp_award

pytestmark = pytest.mark.django_db(transaction=True)


def sql_order(board: str) -> list[tuple[str, int]]:
    moment = datetime.now(UTC)
    return [(r.user_id, r.score) for r in sql_range(board, moment, 0, 1000)]


def redis_order(board: str) -> list[tuple[str, int]]:
    client = redis_client(role="leaderboards")
    key = board_key(board, datetime.now(UTC))
    return [(r.user_id, r.score) for r in redis_range(client, board, key, 0, 999)]


def test_redis_order_equals_sql_order_after_random_awards_and_after_rebuild(make_user):
    rng = random.Random(5)
    users = [make_user(f"p{i}") for i in range(12)]
    leaderboard_rebuild()  # boards start empty and ready

    for n in range(80):
        player = rng.choice(users)
        xp_award(user_id=player.pk, amount=rng.choice([5, 10, 20]), reason="bonus", idempotency_key=f"b:{n}")

    for board in ("all-time", "weekly", "monthly"):
        expected = sql_order(board)
        assert redis_order(board) == expected
        assert len(expected) == len({uid for uid, _ in expected})
    redis_client(role="leaderboards").flushdb()
    leaderboard_rebuild()
    for board in ("all-time", "weekly", "monthly"):
        assert redis_order(board) == sql_order(board)


def test_equal_scores_rank_whoever_reached_them_first(make_user):
    first, second = make_user("first"), make_user("second")
    leaderboard_rebuild()

    xp_award(user_id=second.pk, amount=10, reason="bonus", idempotency_key="a")
    xp_award(user_id=first.pk, amount=20, reason="bonus", idempotency_key="b")
    xp_award(user_id=second.pk, amount=10, reason="bonus", idempotency_key="c")

    # both also reach the weekly top 10 with their first award: +100 XP badge each
    top = leaderboard_top(board="all-time", limit=10)
    assert [(r.rank, r.username, r.score) for r in top] == [(1, "first", 120), (2, "second", 120)]
    assert sql_order("all-time") == [(str(first.pk), 120), (str(second.pk), 120)]


def test_reads_fall_back_to_sql_until_a_rebuild_marks_the_board_ready(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    xp_award(user_id=alice.pk, amount=10, reason="bonus", idempotency_key="a")
    redis_client(role="leaderboards").flushdb()  # Redis lost everything
    xp_award(user_id=bob.pk, amount=5, reason="bonus", idempotency_key="b")

    top = leaderboard_top(board="all-time", limit=10)

    assert [(r.username, r.score) for r in top] == [("alice", 10), ("bob", 5)]
    assert leaderboard_rank(board="all-time", user_id=bob.pk) == (2, 5)


def test_the_sql_rank_of_every_player_is_their_place_in_the_sql_order(make_user):
    players = [make_user(f"p{i}") for i in range(6)]
    for index, amount in enumerate([30, 10, 30, 20, 10, 5]):  # ties on 30 and 10: the earlier first
        xp_award(user_id=players[index].pk, amount=amount, reason="bonus", idempotency_key=f"k{index}")
    now = timezone.now()

    for board in ("all-time", "weekly", "monthly"):
        order = sql_order(board)
        assert [sql_rank(board, now, user_id) for user_id, _ in order] == [
            (place, score) for place, (_, score) in enumerate(order, start=1)
        ]
        assert sql_rank(board, now, make_user(f"nobody-{board}").pk) is None


def test_reads_fall_back_to_sql_when_redis_is_down(make_user, monkeypatch, settings):
    alice = make_user("alice")
    xp_award(user_id=alice.pk, amount=10, reason="bonus", idempotency_key="a")
    leaderboard_rebuild()
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(reads, "redis_client", lambda **_: down)

    top = leaderboard_top(board="weekly", limit=10)

    assert [(r.username, r.score) for r in top] == [("alice", 10)]
    assert leaderboard_count(board="weekly") == 1


def test_period_keys_expire_at_the_end_of_their_period(make_user):
    alice = make_user("alice")
    xp_award(user_id=alice.pk, amount=10, reason="bonus", idempotency_key="a")

    client = redis_client(role="leaderboards")
    now = datetime.now(UTC)
    for board in ("weekly", "monthly"):
        _, end = period_bounds(board, now)
        assert client.expiretime(board_key(board, now)) == int(end.timestamp())
    assert client.ttl(board_key("all-time", now)) == -1


def test_period_bounds_follow_iso_weeks_and_calendar_months():
    moment = datetime(2026, 1, 1, 12, tzinfo=UTC)  # a Thursday in ISO week 2026-W01

    assert period_bounds("weekly", moment) == (datetime(2025, 12, 29, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC))
    assert period_bounds("monthly", moment) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert board_key("weekly", moment) == "lb:weekly:2026-W01"
    assert board_key("monthly", moment) == "lb:monthly:2026-01"


def test_rebuild_awards_the_weekly_top_ten_badge(make_user):
    from game.models import BadgeUnlock
    from game.services import leaderboards_rebuild

    alice = make_user("alice")
    xp_award(user_id=alice.pk, amount=10, reason="bonus", idempotency_key="a")

    leaderboards_rebuild()

    assert BadgeUnlock.objects.filter(user=alice, badge="weekly-top-10").count() == 1
    alice.refresh_from_db()
    assert alice.experience_points == 110


def test_an_award_that_reaches_the_weekly_top_ten_unlocks_its_badge_at_once(make_user):
    from game.models import BadgeUnlock, PlayerStats

    leaderboard_rebuild()  # the weekly board is ready: awards read their rank from Redis
    leaders = [make_user(f"lead{i}") for i in range(10)]
    for i, user in enumerate(leaders):
        xp_award(user_id=user.pk, amount=100 + i, reason="bonus", idempotency_key="lead")
    late = make_user("late")
    xp_award(user_id=late.pk, amount=5, reason="bonus", idempotency_key="late")  # 11th: no badge

    assert BadgeUnlock.objects.filter(user__in=leaders, badge="weekly-top-10").count() == 10
    assert not BadgeUnlock.objects.filter(user=late, badge="weekly-top-10").exists()
    xp_award(user_id=late.pk, amount=500, reason="bonus", idempotency_key="climb")  # now first
    assert BadgeUnlock.objects.filter(user=late, badge="weekly-top-10").count() == 1
    assert PlayerStats.objects.get(pk=late.pk).best_weekly_rank == 1


def test_rebuild_marks_the_next_periods_ready_so_a_new_week_reads_from_redis():
    now = datetime.now(UTC)

    leaderboard_rebuild(moment=now)

    client = redis_client(role="leaderboards")
    for board in ("weekly", "monthly"):
        _, end = period_bounds(board, now)
        _, next_end = period_bounds(board, end)
        assert client.expiretime(ready_key(board_key(board, end))) == int(next_end.timestamp())


# --- skill and challenge boards ---------------------------------------------------------------


def challenge_order(board: str, source: str) -> list[tuple[str, int, int | None]]:
    """(user id, score, prompt tokens) in rank order, from SQL or from the board's Redis key."""
    if source == "sql":
        entries = sql_range(board, datetime.now(UTC), 0, 1000)
    else:
        entries = redis_range(redis_client(role="leaderboards"), board, board_key(board, datetime.now(UTC)), 0, 999)
    return [(r.user_id, r.score, r.prompt_tokens) for r in entries]


def test_skill_and_challenge_boards_in_redis_equal_sql_and_the_rebuild(make_user, attempt):
    rng = random.Random(7)
    users = [make_user(f"p{i}") for i in range(8)]
    slugs = ["one", "two", "three"]
    for n in range(60):
        slug = rng.choice(slugs)
        difficulty = {"one": "beginner", "two": "advanced", "three": "expert"}[slug]
        score, tokens = rng.choice([600, 800, 1000]), rng.choice([10, 20, 30])
        attempt(rng.choice(users), f"a{n}", challenge=slug, difficulty=difficulty, score=score, prompt_tokens=tokens)
    boards = ["skill", *(f"challenge-{slug}" for slug in slugs)]

    for board in boards:
        assert challenge_order(board, "redis") == challenge_order(board, "sql") != []
    redis_client(role="leaderboards").flushdb()
    counts = leaderboard_rebuild()
    assert {board: counts[board] for board in boards} == {board: len(challenge_order(board, "sql")) for board in boards}
    for board in boards:
        assert challenge_order(board, "redis") == challenge_order(board, "sql")


def test_challenge_boards_rank_fewer_tokens_then_the_earlier(make_user, attempt):
    early, late, short = make_user("early"), make_user("late"), make_user("short")
    leaderboard_rebuild()
    attempt(early, "e", challenge="golf", score=1000, prompt_tokens=12)
    attempt(late, "l", challenge="golf", score=1000, prompt_tokens=12)
    attempt(short, "s", challenge="golf", score=1000, prompt_tokens=11)
    leaderboard_rebuild()  # the board exists now: reads come from Redis

    top = leaderboard_top(board="challenge-golf", limit=10)

    assert [(r.username, r.score, r.prompt_tokens) for r in top] == [
        ("short", 1000, 11),
        ("early", 1000, 12),
        ("late", 1000, 12),
    ]
    assert leaderboard_rank(board="challenge-golf", user_id=late.pk) == (3, 1000)
    assert [e["user"]["username"] for e in selectors.challenge_leaderboard("golf", limit=10)] == [
        "short",
        "early",
        "late",
    ]


def test_equal_skill_ranks_whoever_reached_it_first(make_user, attempt):
    first, second = make_user("first"), make_user("second")
    leaderboard_rebuild()
    attempt(second, "s1", challenge="one", score=500)
    attempt(first, "f1", challenge="one", score=900)
    attempt(second, "s2", challenge="two", score=400)

    top = leaderboard_top(board="skill", limit=10)

    assert [(r.rank, r.username, r.score, r.prompt_tokens) for r in top] == [
        (1, "first", 900, None),
        (2, "second", 900, None),
    ]
    assert leaderboard_rank(board="skill", user_id=second.pk) == (2, 900)


def test_skill_and_challenge_reads_fall_back_to_sql_until_rebuilt(make_user, attempt):
    alice, bob = make_user("alice"), make_user("bob")
    attempt(alice, "a", challenge="one", score=700, prompt_tokens=25)
    redis_client(role="leaderboards").flushdb()
    attempt(bob, "b", challenge="one", score=900, prompt_tokens=40)

    assert [(r.username, r.score, r.prompt_tokens) for r in leaderboard_top(board="challenge-one", limit=5)] == [
        ("bob", 900, 40),
        ("alice", 700, 25),
    ]
    assert [(r.username, r.score) for r in leaderboard_top(board="skill", limit=5)] == [("bob", 900), ("alice", 700)]
    assert leaderboard_rank(board="skill", user_id=alice.pk) == (2, 700)
    assert leaderboard_count(board="challenge-one") == 2
    assert leaderboard_top(board="challenge-nobody-solved", limit=5) == []


def test_rebuild_drops_a_challenge_board_nobody_holds_a_best_on(make_user, attempt):
    alice = make_user("alice")
    attempt(alice, "a", challenge="fleeting")
    leaderboard_rebuild()
    client = redis_client(role="leaderboards")
    assert client.zcard("lb:challenge-fleeting") == 1
    alice.delete()

    counts = leaderboard_rebuild()

    assert counts["challenge-fleeting"] == 0
    assert not client.exists("lb:challenge-fleeting", "lb:challenge-fleeting:ready")
    assert "challenge-fleeting" not in leaderboard_rebuild()


def test_challenge_leaderboard_entries_and_pages(make_user, attempt):
    users = [make_user(f"u{i}") for i in range(3)]
    for i, user in enumerate(users):
        attempt(user, f"a{i}", challenge="one", score=900 - 100 * i, prompt_tokens=20 + i)

    page = selectors.challenge_leaderboard("one", limit=2, offset=1)

    best = ChallengeBest.objects.get(user=users[1])
    assert page == [
        {
            "rank": 2,
            "user": {"id": str(users[1].pk), "username": "u1", "avatar_url": None},
            "score": 800,
            "prompt_tokens": 21,
            "achieved_at": best.achieved_at,
        },
        {
            "rank": 3,
            "user": {"id": str(users[2].pk), "username": "u2", "avatar_url": None},
            "score": 700,
            "prompt_tokens": 22,
            "achieved_at": ChallengeBest.objects.get(user=users[2]).achieved_at,
        },
    ]
