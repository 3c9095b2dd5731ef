"""Loops that must not pay: the game measures play, not repetition.

Create-and-delete templates, publishing forks, one-token runs, time-zone hops, one alt forking
many times, and piling up activity XP past the day's total.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone

from game import rules
from game.consistency import progress_check
from game.models import BadgeUnlock, PlayerStats, XPEvent
from game.services import activity_record, challenge_attempt_record, xp_award
from prompts import services as prompts

pytestmark = pytest.mark.django_db
User = get_user_model()

LONG_RUN = {"provider": "openai", "model": "gpt-4o-mini", "output_tokens": rules.RUN_MIN_OUTPUT_TOKENS}


def stats(user) -> PlayerStats:
    return PlayerStats.objects.get(user=user)


def badges(user) -> set[str]:
    return set(BadgeUnlock.objects.filter(user=user).values_list("badge", flat=True))


def xp_of(user, reason: str) -> list[int]:
    return list(XPEvent.objects.filter(user=user, reason=reason).order_by("id").values_list("amount", flat=True))


def activity_xp_today(user) -> int:
    reasons = [rule.reason for rule in rules.XP_RULES.values() if rule.activity]
    total = XPEvent.objects.filter(user=user, reason__in=reasons).aggregate(s=Sum("amount"))["s"]
    return total or 0


def run(user, key: str, *, at: datetime | None = None, output_tokens: int = rules.RUN_MIN_OUTPUT_TOKENS) -> None:
    data = {**LONG_RUN, "output_tokens": output_tokens}
    activity_record(user_id=user.pk, activity="run.completed", idempotency_key=key, data=data, occurred_at=at)


def template(owner, title: str = "Greeting", **fields):
    return prompts.template_create(owner=owner, title=title, content="Say hello to {{name}}.", **fields)


@pytest.fixture
def no_daily_total(settings):
    """Per-reason caps alone: the day's activity XP total set out of reach."""
    settings.GAME_DAILY_ACTIVITY_XP_CAP = 100_000


# --- 1. create and delete templates -------------------------------------------------------------


def test_creating_and_deleting_templates_does_not_fill_the_author_badges(user, no_daily_total):
    for i in range(12):
        prompts.template_delete(template=template(user, f"Throwaway {i}"), actor=user)

    assert stats(user).templates_created == 0
    assert badges(user) == {"author-1"}  # unlocked by the first one, and it stays


def test_the_author_badge_counts_templates_that_exist_and_stays_unlocked_after_deletes(user, no_daily_total):
    kept = [template(user, f"Kept {i}") for i in range(10)]
    assert "author-10" in badges(user)

    for doomed in kept[:4]:
        prompts.template_delete(template=doomed, actor=user)

    assert stats(user).templates_created == 6
    assert {"author-1", "author-10"} <= badges(user)


def test_a_template_deleted_the_day_it_was_created_does_not_pay_again_for_its_replacement(user, no_daily_total):
    for i in range(5):
        prompts.template_delete(template=template(user, f"Again {i}"), actor=user)
    template(user, "Kept")

    # the first creation earned; every recreation only replaced a deleted one
    assert xp_of(user, "template.created") == [20]
    assert stats(user).templates_created == 1
    # a new template that adds to what exists earns as usual
    template(user, "Second")
    assert xp_of(user, "template.created") == [20, 20]


def test_publishing_and_deleting_public_templates_pays_publish_xp_once(user, no_daily_total):
    for i in range(4):
        prompts.template_delete(template=template(user, f"Public {i}", visibility="public"), actor=user)

    assert xp_of(user, "template.published") == [50]
    assert stats(user).templates_published == 0


def days_ago(user, days: int) -> None:
    """Move everything the game recorded for `user` `days` back, as if it had happened then."""
    from game.models import Activity

    then = timezone.now() - timedelta(days=days)
    XPEvent.objects.filter(user=user).update(local_date=then.date())
    Activity.objects.filter(user=user).update(local_date=then.date())
    PlayerStats.objects.filter(user=user).update(game_day=then.date(), game_day_began=then)


def test_a_template_made_on_an_earlier_day_and_deleted_today_leaves_todays_creations_paid(user, no_daily_total):
    old = template(user, "Old")
    days_ago(user, 3)

    prompts.template_delete(template=old, actor=user)
    template(user, "New")

    assert xp_of(user, "template.created") == [20, 20]  # a new day, a new template
    assert stats(user).templates_created == 1


# --- 2. publishing a fork -----------------------------------------------------------------------


def test_a_fork_made_public_earns_no_publish_xp_and_is_not_counted_as_published(make_user, no_daily_total):
    author, forker = make_user("author"), make_user("forker")
    original = template(author, "Original", visibility="public")

    fork = prompts.template_fork(template=original, user=forker)
    prompts.template_update(template=fork, actor=forker, visibility="public")

    assert xp_of(forker, "template.published") == []
    assert stats(forker).templates_published == 0
    assert xp_of(author, "template.published") == [50]


def test_a_fork_of_your_own_template_still_earns_nothing_once_the_original_is_gone(user, no_daily_total):
    original = template(user, "Mine")
    fork = prompts.template_fork(template=original, user=user)
    prompts.template_delete(template=original, actor=user)  # the fork's forked_from becomes empty

    fork.refresh_from_db()
    prompts.template_update(template=fork, actor=user, visibility="public")

    assert fork.forked_from_id is None
    assert xp_of(user, "template.published") == []
    assert stats(user).templates_published == 0


# --- 3. one-token runs --------------------------------------------------------------------------


def test_a_run_below_the_minimum_output_earns_nothing_and_counts_nowhere(user):
    for i in range(5):
        run(user, f"short:{i}", output_tokens=rules.RUN_MIN_OUTPUT_TOKENS - 1)

    player = stats(user)
    assert XPEvent.objects.filter(user=user).count() == 0
    assert (player.runs_completed, player.providers_used, player.streak_days) == (0, 0, 0)
    assert badges(user) == set()


def test_a_run_of_the_minimum_output_earns_the_run_xp_and_the_days_first_run_bonus(user):
    run(user, "short", output_tokens=1)
    run(user, "long")

    assert xp_of(user, "run.first_of_day") == [25]
    assert xp_of(user, "run.completed") == [10]
    assert (stats(user).runs_completed, stats(user).streak_days) == (1, 1)


def test_a_run_reported_without_its_output_size_earns_nothing(user):
    activity_record(user_id=user.pk, activity="run.completed", idempotency_key="run:bare", data={"provider": "x"})

    assert XPEvent.objects.filter(user=user).count() == 0


# --- 4. time-zone hops --------------------------------------------------------------------------

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def zone(auth_client, name: str) -> None:
    answer = auth_client.patch("/api/v1/auth/me/", {"timezone": name}, format="json")
    assert answer.status_code == 200, answer.content


def test_switching_zones_back_and_forth_opens_no_second_day(user, auth_client, no_daily_total):
    for i in range(20):
        run(user, f"utc:{i}", at=NOON + timedelta(minutes=i))
    # Kiritimati (UTC+14) already lives on 11 June, Pago Pago (UTC-11) still on 9 June
    hops = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Kiritimati", "UTC", "Asia/Tokyo"]
    for n, name in enumerate(hops):
        zone(auth_client, name)
        for i in range(5):
            run(user, f"hop:{n}:{i}", at=NOON + timedelta(hours=1, minutes=10 * n + i))

    assert xp_of(user, "run.first_of_day") == [25]  # no second first-run bonus
    assert len(xp_of(user, "run.completed")) == 20  # no extra cap room
    assert (stats(user).streak_days, stats(user).streak_best) == (1, 1)  # no streak jump
    assert set(XPEvent.objects.filter(user=user).values_list("local_date", flat=True)) == {NOON.date()}


def test_the_next_game_day_opens_once_twenty_hours_have_passed(user, auth_client, no_daily_total):
    run(user, "day1", at=NOON)
    zone(auth_client, "Pacific/Kiritimati")
    run(user, "too-soon", at=NOON.replace(hour=19, minute=59))  # 11 June in Kiritimati, 19 h 59 after midnight UTC
    assert xp_of(user, "run.first_of_day") == [25]

    run(user, "day2", at=NOON.replace(hour=20))  # 20 h after the game day began: 11 June opens
    assert xp_of(user, "run.first_of_day") == [25, 25]
    assert stats(user).streak_days == 2

    zone(auth_client, "UTC")  # back west: the game stays on 11 June until UTC reaches 12 June
    run(user, "still-day2", at=NOON + timedelta(hours=15))
    run(user, "still-day2-later", at=NOON + timedelta(days=1, hours=4))
    assert xp_of(user, "run.first_of_day") == [25, 25]
    run(user, "day3", at=datetime(2026, 6, 12, 0, 30, tzinfo=UTC))
    assert xp_of(user, "run.first_of_day") == [25, 25, 25]
    assert stats(user).streak_days == 3


def test_a_normal_day_in_one_zone_is_unchanged_by_the_game_day_rule(make_user):
    user = make_user("berlin", timezone="Europe/Berlin")

    # Berlin's 29 March 2026 has 23 hours: the spring-forward day is still a game day of its own
    run(user, "29th", at=datetime(2026, 3, 28, 23, 1, tzinfo=UTC))  # 00:01 CET on the 29th
    run(user, "30th", at=datetime(2026, 3, 29, 22, 1, tzinfo=UTC))  # 00:01 CEST on the 30th, 23 h later

    assert xp_of(user, "run.first_of_day") == [25, 25]
    assert (stats(user).game_day.isoformat(), stats(user).streak_days) == ("2026-03-30", 2)


# --- 5. one alt forking many times --------------------------------------------------------------


def established(user) -> None:
    """Make `user` an established player: an old account with XP of its own."""
    User.objects.filter(pk=user.pk).update(
        date_joined=timezone.now() - timedelta(days=rules.ESTABLISHED_FORKER_DAYS + 1)
    )
    xp_award(user_id=user.pk, amount=rules.ESTABLISHED_FORKER_XP, reason="staff.award", idempotency_key="seed")


def test_one_alt_forking_five_templates_does_not_unlock_trendsetter(make_user, no_daily_total):
    owner, alt = make_user("owner"), make_user("alt")
    established(alt)
    originals = [template(owner, f"T{i}", visibility="public") for i in range(5)]

    for original in originals:
        prompts.template_fork(template=original, user=alt)

    assert stats(owner).forks_received == 1
    assert "forks-5" not in badges(owner)


def test_five_fresh_alts_do_not_unlock_trendsetter(make_user, no_daily_total):
    owner = make_user("owner")
    original = template(owner, "Hot", visibility="public")

    for i in range(5):
        prompts.template_fork(template=original, user=make_user(f"fresh{i}"))

    assert stats(owner).forks_received == 0
    assert "forks-5" not in badges(owner)


def test_five_established_forkers_unlock_trendsetter(make_user, no_daily_total):
    owner = make_user("owner")
    original = template(owner, "Hot", visibility="public")
    forkers = [make_user(f"peer{i}") for i in range(5)]
    for forker in forkers:
        established(forker)

    for forker in forkers:
        prompts.template_fork(template=original, user=forker)

    assert stats(owner).forks_received == 5
    assert "forks-5" in badges(owner)


def test_a_forker_counts_once_established_even_after_forking_while_new(make_user, no_daily_total):
    owner, newcomer = make_user("owner"), make_user("newcomer")
    first, second = template(owner, "A", visibility="public"), template(owner, "B", visibility="public")

    prompts.template_fork(template=first, user=newcomer)
    assert stats(owner).forks_received == 0
    established(newcomer)
    prompts.template_fork(template=second, user=newcomer)
    prompts.template_fork(template=first, user=newcomer)

    assert stats(owner).forks_received == 1


# --- 6. the day's total of activity XP ----------------------------------------------------------


def test_activity_xp_stops_at_the_daily_total_with_the_remainder_awarded(user, settings):
    settings.GAME_DAILY_ACTIVITY_XP_CAP = 200
    for i in range(8):  # 8 x 20 = 160 template XP
        template(user, f"T{i}")
    run(user, "r0")  # first-of-day 25 (185), run 10 (195)
    run(user, "r1")  # 5 left: a partial award
    run(user, "r2")  # nothing left

    assert xp_of(user, "template.created") == [20] * 8
    assert xp_of(user, "run.first_of_day") == [25]
    assert xp_of(user, "run.completed") == [10, 5]
    assert activity_xp_today(user) == 200
    # badges are outside the total: First Draft and First Run still paid
    assert xp_of(user, "badge.unlocked") == [10, 10]
    user.refresh_from_db()
    assert user.experience_points == XPEvent.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] == 220
    assert stats(user).runs_completed == 3  # the runs still count for badges and the streak
    assert progress_check() == []


def test_challenge_xp_is_outside_the_daily_total(user, settings):
    settings.GAME_DAILY_ACTIVITY_XP_CAP = 30
    template(user, "T1")
    template(user, "T2")

    award = challenge_attempt_record(
        user_id=user.pk,
        attempt_id="a1",
        challenge="sentiment",
        track="foundations",
        difficulty="intermediate",
        score=800,
        prompt_tokens=30,
        passed=True,
        par_tokens=20,
        track_challenges=["sentiment", "other"],
    )

    assert xp_of(user, "template.created") == [20, 10]
    assert award.xp_awarded == 50


def test_a_new_day_starts_a_new_total(user, settings):
    settings.GAME_DAILY_ACTIVITY_XP_CAP = 30
    run(user, "d1", at=NOON)  # 25 + 5
    run(user, "d1b", at=NOON + timedelta(minutes=1))
    run(user, "d2", at=NOON + timedelta(days=1))

    assert xp_of(user, "run.first_of_day") == [25, 25]
    assert xp_of(user, "run.completed") == [5, 5]


def test_a_staff_award_of_an_activity_reason_retried_after_a_partial_award_is_the_same_award(user, settings):
    settings.GAME_DAILY_ACTIVITY_XP_CAP = 15
    first = xp_award(user_id=user.pk, amount=20, reason="template.created", idempotency_key="k")
    again = xp_award(user_id=user.pk, amount=20, reason="template.created", idempotency_key="k")

    assert (first.amount, first.created) == (15, True)
    assert (again.event_id, again.amount, again.created) == (first.event_id, 15, False)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_daily_total_holds_under_concurrent_activities(make_user, threads, settings):
    settings.GAME_DAILY_ACTIVITY_XP_CAP = 200
    user, fans = make_user("busy"), [make_user(f"fan{i}") for i in range(8)]

    def act(i: int) -> None:
        kind = i % 4
        if kind == 0:
            run(user, f"run:{i}")
        elif kind == 1:
            activity_record(user_id=user.pk, activity="template.created", idempotency_key=f"t:{i}", data={})
        elif kind == 2:
            fan = fans[i % len(fans)]
            data = {"template_id": f"tpl{i}", "actor_id": str(fan.pk)}
            activity_record(user_id=user.pk, activity="favorite.received", idempotency_key=f"f:{i}", data=data)
        else:
            activity_record(user_id=user.pk, activity="rating.given", idempotency_key=f"g:{i}", data={})

    results = threads(act, 40)

    assert results == [None] * 40
    assert activity_xp_today(user) == 200
    user.refresh_from_db()
    assert user.experience_points == XPEvent.objects.filter(user=user).aggregate(s=Sum("amount"))["s"]
    assert stats(user).day_activity_xp == 200
    assert progress_check() == []
