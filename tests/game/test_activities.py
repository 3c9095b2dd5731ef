"""Activities through the rules table: XP, caps, levels, badges, idempotency and concurrency."""

import pytest
from django.db.models import Sum

from game.models import Activity, BadgeUnlock, CreditEntry, PlayerStats, XPEvent
from game.rules import RUN_MIN_OUTPUT_TOKENS
from game.services import XPResult, activity_record, credits_grant, xp_award

pytestmark = pytest.mark.django_db
RUN = {"output_tokens": RUN_MIN_OUTPUT_TOKENS}  # a run long enough to count


def xp_reasons(user) -> list[tuple[str, int]]:
    return list(XPEvent.objects.filter(user=user).order_by("id").values_list("reason", "amount"))


def test_first_run_awards_run_xp_first_of_day_bonus_and_the_first_run_badge(user):
    activity_record(
        user_id=user.pk, activity="run.completed", idempotency_key="run:1", data={"provider": "openai", **RUN}
    )

    user.refresh_from_db()
    assert xp_reasons(user) == [("run.first_of_day", 25), ("run.completed", 10), ("badge.unlocked", 10)]
    assert (user.experience_points, user.level, user.credits) == (45, 1, 105)
    assert list(BadgeUnlock.objects.filter(user=user).values_list("badge", flat=True)) == ["first-run"]
    stats = PlayerStats.objects.get(user=user)
    assert (stats.runs_completed, stats.providers_used, stats.streak_days) == (1, 1, 1)


def test_a_repeated_activity_key_changes_nothing(user):
    activity_record(user_id=user.pk, activity="template.created", idempotency_key="tpl:1:created")
    activity_record(user_id=user.pk, activity="template.created", idempotency_key="tpl:1:created")

    user.refresh_from_db()
    assert Activity.objects.filter(user=user).count() == 1
    assert xp_reasons(user) == [("template.created", 20), ("badge.unlocked", 10)]
    assert PlayerStats.objects.get(user=user).templates_created == 1


def test_run_xp_stops_at_the_daily_cap(user, settings):
    settings.GAME_DAILY_ACTIVITY_XP_CAP = 10_000  # the reason's own cap alone
    for i in range(25):
        activity_record(user_id=user.pk, activity="run.completed", idempotency_key=f"run:{i}", data=RUN)

    user.refresh_from_db()
    assert XPEvent.objects.filter(user=user, reason="run.completed").count() == 20
    assert PlayerStats.objects.get(user=user).runs_completed == 25
    # 20 runs x 10 + first-of-day 25 + badges first-run 10 and runs-10 25
    assert user.experience_points == 260
    assert (user.level, user.user_rank) == (2, "Prompt Novice")
    # welcome 100 + badges 5 + 10 + level 2 reached: 20
    assert user.credits == 135
    assert CreditEntry.objects.filter(user=user).aggregate(s=Sum("delta"))["s"] == 135


def test_acting_on_your_own_template_earns_nothing(user):
    for name in ("template.forked", "favorite.received", "template.rated"):
        activity_record(
            user_id=user.pk, activity=name, idempotency_key=f"{name}:1", data={"actor_id": str(user.pk), "score": 5}
        )

    user.refresh_from_db()
    assert user.experience_points == 0
    stats = PlayerStats.objects.get(user=user)
    assert (stats.forks_received, stats.favorites_received) == (0, 0)


def test_ratings_earn_the_owner_xp_from_four_stars(make_user):
    owner, rater = make_user("owner"), make_user("rater")
    base = {"template_id": 7, "actor_id": str(rater.pk)}

    activity_record(user_id=owner.pk, activity="template.rated", idempotency_key="r1", data={**base, "score": 3})
    activity_record(user_id=owner.pk, activity="template.rated", idempotency_key="r2", data={**base, "score": 5})
    activity_record(user_id=owner.pk, activity="template.rated", idempotency_key="r3", data={**base, "score": 4})

    assert xp_reasons(owner) == [("template.rated", 15)]  # once per rater and template


def test_publishing_one_template_twice_awards_once(user):
    template = {"template_id": "3"}
    activity_record(user_id=user.pk, activity="template.created", idempotency_key="c", data=template)
    activity_record(user_id=user.pk, activity="template.published", idempotency_key="p1", data=template)
    activity_record(user_id=user.pk, activity="template.published", idempotency_key="p2", data=template)

    assert xp_reasons(user) == [("template.created", 20), ("badge.unlocked", 10), ("template.published", 50)]


def test_unknown_activity_is_refused(user):
    with pytest.raises(ValueError):
        activity_record(user_id=user.pk, activity="template.vanished", idempotency_key="x")


def test_xp_award_levels_up_with_rank_and_credits(user):
    result = xp_award(user_id=user.pk, amount=1000, reason="bonus", idempotency_key="bonus:1")

    user.refresh_from_db()
    assert result == XPResult(event_id=result.event_id, amount=1000, total_xp=1000, level=5, created=True)
    assert (user.experience_points, user.level, user.user_rank) == (1000, 5, "Prompt Apprentice")
    # levels 2..5 grant 20 + 30 + 40 + 50
    assert user.credits == 100 + 140
    assert list(
        CreditEntry.objects.filter(user=user, reason="level.up").order_by("id").values_list("delta", flat=True)
    ) == [
        20,
        30,
        40,
        50,
    ]


def test_xp_award_with_a_used_key_returns_the_first_result(user):
    first = xp_award(user_id=user.pk, amount=40, reason="bonus", idempotency_key="bonus:1")
    again = xp_award(user_id=user.pk, amount=40, reason="bonus", idempotency_key="bonus:1")

    assert (again.event_id, again.amount, again.total_xp, again.created) == (first.event_id, 40, 40, False)
    assert XPEvent.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_with_one_key_write_one_row(make_user, threads):
    user = make_user("same-key")

    results = threads(lambda i: xp_award(user_id=user.pk, amount=30, reason="bonus", idempotency_key="bonus:x"), 6)

    user.refresh_from_db()
    assert all(isinstance(r, XPResult) for r in results), results
    assert sorted(r.created for r in results) == [False] * 5 + [True]
    assert XPEvent.objects.filter(user=user).count() == 1
    assert user.experience_points == 30


@pytest.mark.django_db(transaction=True)
def test_badge_unlocks_exactly_once_under_concurrent_runs(make_user, threads):
    user = make_user("runner")

    results = threads(
        lambda i: activity_record(user_id=user.pk, activity="run.completed", idempotency_key=f"run:{i}", data=RUN), 10
    )

    user.refresh_from_db()
    assert results == [None] * 10
    assert sorted(BadgeUnlock.objects.filter(user=user).values_list("badge", flat=True)) == ["first-run", "runs-10"]
    assert XPEvent.objects.filter(user=user, reason="badge.unlocked").count() == 2
    assert PlayerStats.objects.get(user=user).runs_completed == 10
    assert user.experience_points == XPEvent.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] == 160


@pytest.mark.django_db(transaction=True)
def test_concurrent_activities_with_one_key_are_recorded_once(make_user, threads):
    user = make_user("dup")

    threads(lambda i: activity_record(user_id=user.pk, activity="template.created", idempotency_key="t:1"), 6)

    assert Activity.objects.filter(user=user).count() == 1
    assert PlayerStats.objects.get(user=user).templates_created == 1


@pytest.mark.django_db(transaction=True)
def test_activities_inside_transactions_already_holding_the_user_row_do_not_deadlock(make_user, threads):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    user = make_user("settler")

    def work(i: int) -> None:
        if i % 2:  # like run settlement: lock the user row, change credits, then report the run
            with transaction.atomic():
                get_user_model().objects.select_for_update().get(pk=user.pk)
                credits_grant(user_id=user.pk, amount=1, reason="run.refund", idempotency_key=f"refund:{i}")
                activity_record(user_id=user.pk, activity="run.completed", idempotency_key=f"run:{i}", data=RUN)
        else:
            activity_record(user_id=user.pk, activity="template.created", idempotency_key=f"tpl:{i}")

    results = threads(work, 12)

    user.refresh_from_db()
    assert results == [None] * 12
    stats = PlayerStats.objects.get(user=user)
    assert (stats.runs_completed, stats.templates_created) == (6, 6)
    assert user.experience_points == XPEvent.objects.filter(user=user).aggregate(s=Sum("amount"))["s"]
