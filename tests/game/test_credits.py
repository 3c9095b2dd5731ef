"""Credits ledger: welcome credits, spends that never overdraw, grants, idempotency keys."""

import pytest
from django.db import transaction
from django.db.models import Sum

from game.models import CreditEntry
from game.services import CreditResult, InsufficientCredits, credits_grant, credits_spend

pytestmark = pytest.mark.django_db


def ledger_sum(user) -> int:
    return CreditEntry.objects.filter(user=user).aggregate(total=Sum("delta"))["total"]


def test_new_player_gets_welcome_credits_as_a_ledger_row(make_user):
    user = make_user("bob")

    user.refresh_from_db()
    assert (user.credits, user.level, user.experience_points, user.user_rank) == (100, 1, 0, "Prompt Novice")
    entry = CreditEntry.objects.get(user=user)
    assert (entry.delta, entry.balance_after, entry.reason, entry.idempotency_key) == (100, 100, "welcome", "welcome")


def test_spend_takes_credits_and_writes_balance_after(user):
    result = credits_spend(user_id=user.pk, amount=30, reason="run", idempotency_key="run:1:reserve", source="run:1")

    user.refresh_from_db()
    entry = CreditEntry.objects.get(pk=result.entry_id)
    assert result == CreditResult(entry_id=entry.pk, balance=70, delta=-30, created=True)
    assert user.credits == 70
    assert (entry.delta, entry.balance_after, entry.reason, entry.source) == (-30, 70, "run", "run:1")


def test_spend_with_a_used_key_returns_the_first_result(user):
    first = credits_spend(user_id=user.pk, amount=30, reason="run", idempotency_key="run:1:reserve")

    again = credits_spend(user_id=user.pk, amount=30, reason="run", idempotency_key="run:1:reserve")

    user.refresh_from_db()
    assert again == CreditResult(entry_id=first.entry_id, balance=70, delta=-30, created=False)
    assert user.credits == 70
    assert CreditEntry.objects.filter(user=user).count() == 2


def test_spend_beyond_balance_raises_and_writes_nothing(user):
    with pytest.raises(InsufficientCredits):
        credits_spend(user_id=user.pk, amount=101, reason="run", idempotency_key="run:2:reserve")

    user.refresh_from_db()
    assert user.credits == 100
    assert CreditEntry.objects.filter(user=user).count() == 1


def test_spend_of_the_whole_balance_leaves_zero(user):
    result = credits_spend(user_id=user.pk, amount=100, reason="run", idempotency_key="k")

    assert result.balance == 0


def test_grant_adds_credits_idempotently(user):
    first = credits_grant(user_id=user.pk, amount=12, reason="refund", idempotency_key="run:1:refund")
    again = credits_grant(user_id=user.pk, amount=12, reason="refund", idempotency_key="run:1:refund")

    user.refresh_from_db()
    assert (first.balance, first.delta, first.created) == (112, 12, True)
    assert (again.entry_id, again.balance, again.created) == (first.entry_id, 112, False)
    assert user.credits == 112 == ledger_sum(user)


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_non_positive_or_non_integer_amounts_are_refused(user, amount):
    with pytest.raises(ValueError):
        credits_spend(user_id=user.pk, amount=amount, reason="run", idempotency_key="x")
    with pytest.raises(ValueError):
        credits_grant(user_id=user.pk, amount=amount, reason="run", idempotency_key="y")


def test_spend_rolled_back_with_the_callers_transaction_leaves_no_trace(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        credits_spend(user_id=user.pk, amount=40, reason="run", idempotency_key="run:9:reserve")
        raise RuntimeError("caller failed")

    user.refresh_from_db()
    assert user.credits == 100
    assert not CreditEntry.objects.filter(idempotency_key="run:9:reserve").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_concurrent_spends_never_overdraw(make_user, threads):
    user = make_user("racer")

    results = threads(
        lambda i: credits_spend(user_id=user.pk, amount=30, reason="run", idempotency_key=f"run:{i}:reserve"), 8
    )

    user.refresh_from_db()
    successes = [r for r in results if isinstance(r, CreditResult)]
    failures = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(successes), len(failures)) == (3, 5)
    assert sorted(r.balance for r in successes) == [10, 40, 70]
    assert user.credits == 10 == ledger_sum(user)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_concurrent_spends_with_one_key_write_one_row(make_user, threads):
    user = make_user("twin")

    results = threads(
        lambda i: credits_spend(user_id=user.pk, amount=60, reason="run", idempotency_key="run:7:reserve"), 6
    )

    user.refresh_from_db()
    assert all(isinstance(r, CreditResult) for r in results), results
    assert len({r.entry_id for r in results}) == 1
    assert sorted(r.created for r in results) == [False] * 5 + [True]
    assert {r.balance for r in results} == {40}
    assert CreditEntry.objects.filter(user=user, idempotency_key="run:7:reserve").count() == 1
    assert user.credits == 40 == ledger_sum(user)
