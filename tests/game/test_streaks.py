"""Streaks count the user's own local days: time zones, DST changes, freezes and milestones."""

from datetime import UTC, date, datetime

import pytest

from game.models import CreditEntry, PlayerStats, XPEvent
from game.rules import RUN_MIN_OUTPUT_TOKENS
from game.services import activity_record
from game.streaks import StreakState, streak_advance, streak_current
from game.timeutils import local_date


def run_at(user, moment: datetime, key: str) -> None:
    data = {"output_tokens": RUN_MIN_OUTPUT_TOKENS}
    activity_record(user_id=user.pk, activity="run.completed", idempotency_key=key, data=data, occurred_at=moment)


def streak(user) -> tuple[int, int, int]:
    stats = PlayerStats.objects.get(user=user)
    return stats.streak_days, stats.streak_best, stats.streak_freezes


def test_consecutive_days_grow_the_streak_and_a_gap_restarts_it():
    state = StreakState()
    for day in (1, 2, 3):
        state = streak_advance(state, date(2026, 3, day))
    assert (state.days, state.best) == (3, 3)

    state = streak_advance(state, date(2026, 3, 3))  # same day again
    assert state.days == 3
    state = streak_advance(state, date(2026, 3, 6))  # two days missed, no freeze
    assert (state.days, state.best, state.last_date) == (1, 3, date(2026, 3, 6))


def test_a_freeze_is_earned_per_seven_days_and_covers_one_missed_day():
    state = StreakState()
    for day in range(1, 8):
        state = streak_advance(state, date(2026, 3, day))
    assert (state.days, state.freezes) == (7, 1)

    state = streak_advance(state, date(2026, 3, 9))  # the 8th was missed: the freeze covers it
    assert (state.days, state.freezes) == (8, 0)
    state = streak_advance(state, date(2026, 3, 11))  # missed again, no freeze left
    assert (state.days, state.freezes) == (1, 0)


def test_at_most_two_freezes_are_held():
    state = StreakState()
    for day in range(1, 29):
        state = streak_advance(state, date(2026, 2, day))

    assert (state.days, state.freezes) == (28, 2)
    assert streak_current(state, date(2026, 3, 3)) == 28  # 1st and 2nd missed: two freezes cover them
    assert streak_current(state, date(2026, 3, 4)) == 0


def test_an_earlier_local_day_after_moving_time_zones_changes_nothing():
    state = streak_advance(StreakState(), date(2026, 3, 10))

    assert streak_advance(state, date(2026, 3, 9)) == state


@pytest.mark.parametrize(
    ("moment", "zone", "day"),
    [
        (datetime(2026, 3, 10, 3, 30, tzinfo=UTC), "America/New_York", date(2026, 3, 9)),
        (datetime(2026, 3, 10, 23, 30, tzinfo=UTC), "Asia/Tokyo", date(2026, 3, 11)),
        (datetime(2026, 3, 10, 23, 30, tzinfo=UTC), "Not/AZone", date(2026, 3, 10)),
    ],
)
def test_local_day_follows_the_users_time_zone(moment, zone, day):
    assert local_date(moment, zone) == day


@pytest.mark.django_db
def test_late_evening_activity_counts_for_the_users_local_day(make_user):
    user = make_user("nyc", timezone="America/New_York")

    # 23:00 and 23:30 New York time (EDT) on 9 and 10 March: UTC already says 10 and 11 March
    run_at(user, datetime(2026, 3, 10, 3, 0, tzinfo=UTC), "r1")
    run_at(user, datetime(2026, 3, 11, 3, 30, tzinfo=UTC), "r2")
    # 23:59 on 10 March in New York: same local day as the previous run
    run_at(user, datetime(2026, 3, 11, 3, 59, tzinfo=UTC), "r3")
    assert streak(user)[:2] == (2, 2)
    assert PlayerStats.objects.get(user=user).streak_last_date == date(2026, 3, 10)

    # 00:30 on 11 March in New York: the next local day
    run_at(user, datetime(2026, 3, 11, 4, 30, tzinfo=UTC), "r4")
    assert streak(user)[:2] == (3, 3)


@pytest.mark.django_db
def test_streak_survives_the_spring_forward_night_and_the_fall_back_night(make_user):
    user = make_user("berlin", timezone="Europe/Berlin")

    # Berlin: 29 March 2026 has 23 hours, 25 October 2026 has 25.
    run_at(user, datetime(2026, 3, 28, 22, 59, tzinfo=UTC), "a")  # 23:59 CET on the 28th
    run_at(user, datetime(2026, 3, 29, 21, 59, tzinfo=UTC), "b")  # 23:59 CEST on the 29th, 23h later
    assert streak(user)[0] == 2
    run_at(user, datetime(2026, 3, 29, 22, 1, tzinfo=UTC), "b2")  # 00:01 CEST on the 30th
    assert streak(user)[0] == 3
    assert PlayerStats.objects.get(user=user).streak_last_date == date(2026, 3, 30)

    run_at(user, datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "c")  # 00:30 CEST on the 25th
    run_at(user, datetime(2026, 10, 25, 22, 59, tzinfo=UTC), "d")  # 23:59 CET on the 25th, 25h later
    assert streak(user)[0] == 1
    run_at(user, datetime(2026, 10, 25, 23, 0, tzinfo=UTC), "e")  # 00:00 on the 26th
    assert streak(user)[0] == 2


@pytest.mark.django_db
def test_streak_milestone_awards_xp_credits_and_the_badge(make_user):
    user = make_user("keen", timezone="Asia/Kolkata")

    for day in (1, 2, 3):
        run_at(user, datetime(2026, 5, day, 12, tzinfo=UTC), f"r{day}")

    assert streak(user) == (3, 3, 0)
    assert XPEvent.objects.get(user=user, reason="streak.milestone").amount == 30
    assert CreditEntry.objects.get(user=user, reason="streak.milestone").delta == 5
    assert user.badge_unlocks.filter(badge="streak-3").exists()


@pytest.mark.django_db
def test_only_the_users_own_actions_keep_the_streak(make_user):
    owner, fan = make_user("owner"), make_user("fan")

    activity_record(
        user_id=owner.pk, activity="favorite.received", idempotency_key="f1", data={"actor_id": str(fan.pk)}
    )

    assert streak(owner) == (0, 0, 0)
