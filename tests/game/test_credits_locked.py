"""credits_spend_locked: the reservation path for callers that already hold the user row lock."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from game.models import CreditEntry
from game.services import CreditResult, InsufficientCredits, credits_spend_locked

pytestmark = pytest.mark.django_db(transaction=True)  # the last test needs no outer atomic block

User = get_user_model()


def locked_balance(user) -> int:
    return User.objects.select_for_update().values_list("credits", flat=True).get(pk=user.pk)


def test_spend_under_the_lock_writes_one_ledger_row_with_the_new_balance(user):
    with transaction.atomic():
        result = credits_spend_locked(
            user_id=user.pk, amount=30, balance=locked_balance(user), reason="run.reserve", idempotency_key="k1"
        )

    user.refresh_from_db()
    entry = CreditEntry.objects.get(pk=result.entry_id)
    assert result == CreditResult(entry_id=entry.pk, balance=70, delta=-30, created=True)
    assert user.credits == 70
    assert (entry.delta, entry.balance_after, entry.reason) == (-30, 70, "run.reserve")


def test_a_balance_that_does_not_cover_the_amount_writes_nothing(user):
    with transaction.atomic(), pytest.raises(InsufficientCredits):
        credits_spend_locked(
            user_id=user.pk, amount=101, balance=locked_balance(user), reason="run.reserve", idempotency_key="k1"
        )

    user.refresh_from_db()
    assert user.credits == 100
    assert not CreditEntry.objects.filter(idempotency_key="k1").exists()


def test_a_stale_balance_still_cannot_overdraw(user):
    with transaction.atomic(), pytest.raises(InsufficientCredits):
        credits_spend_locked(user_id=user.pk, amount=150, balance=500, reason="run.reserve", idempotency_key="k1")

    user.refresh_from_db()
    assert user.credits == 100


def test_outside_a_transaction_it_refuses_to_run(user):
    with pytest.raises(RuntimeError, match="needs the caller's transaction"):
        credits_spend_locked(user_id=user.pk, amount=1, balance=100, reason="run.reserve", idempotency_key="k1")

    assert not CreditEntry.objects.filter(idempotency_key="k1").exists()
