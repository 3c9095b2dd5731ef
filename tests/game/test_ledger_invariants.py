"""Ledger invariants under random awards, spends, refunds, activities and retried keys."""

import itertools

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from game.levels import level_for_xp, rank_for_level
from game.models import CreditEntry, XPEvent
from game.services import (
    IdempotencyConflict,
    InsufficientCredits,
    activity_record,
    credits_grant,
    credits_spend,
    xp_award,
)

KEYS = st.sampled_from([f"k{i}" for i in range(6)])
ACTIVITIES = st.sampled_from(["run.completed", "template.created", "rating.given", "template.published"])
_names = itertools.count()


@pytest.mark.django_db
def test_ledgers_stay_consistent_with_the_counters(make_user):
    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.user = make_user(f"prop{next(_names)}")
            self.xp_results: dict[str, tuple[int, int]] = {}  # key -> (event id, amount)
            self.credit_results: dict[str, int] = {}  # key -> entry id
            self.last_xp = 0

        def balance(self) -> int:
            self.user.refresh_from_db()
            return self.user.credits

        @rule(amount=st.integers(1, 400), key=KEYS)
        def award(self, amount, key):
            if key in self.xp_results and self.xp_results[key][1] != amount:
                with pytest.raises(IdempotencyConflict):  # the key is another award's: nothing changes
                    xp_award(user_id=self.user.pk, amount=amount, reason="bonus", idempotency_key=f"xp:{key}")
                return
            result = xp_award(user_id=self.user.pk, amount=amount, reason="bonus", idempotency_key=f"xp:{key}")
            if key in self.xp_results:
                assert (result.created, result.event_id) == (False, self.xp_results[key][0])
            else:
                assert result.created and result.amount == amount
                self.xp_results[key] = (result.event_id, amount)

        @rule(amount=st.integers(1, 150), key=KEYS)
        def spend(self, amount, key):
            before = self.balance()
            try:
                result = credits_spend(user_id=self.user.pk, amount=amount, reason="run", idempotency_key=key)
            except InsufficientCredits:
                assert key not in self.credit_results and before < amount
                assert self.balance() == before
                return
            if key in self.credit_results:
                assert (result.created, result.entry_id) == (False, self.credit_results[key])
                assert self.balance() == before
            else:
                assert result.created and result.balance == before - amount == self.balance()
                self.credit_results[key] = result.entry_id

        @rule(amount=st.integers(1, 150), key=KEYS)
        def refund(self, amount, key):
            before = self.balance()
            result = credits_grant(user_id=self.user.pk, amount=amount, reason="refund", idempotency_key=key)
            if key in self.credit_results:
                assert (result.created, result.entry_id) == (False, self.credit_results[key])
                assert self.balance() == before
            else:
                assert result.created and result.balance == before + amount == self.balance()
                self.credit_results[key] = result.entry_id

        @rule(name=ACTIVITIES, key=KEYS)
        def activity(self, name, key):
            activity_record(
                user_id=self.user.pk, activity=name, idempotency_key=f"act:{key}", data={"template_id": key}
            )

        @invariant()
        def credits_match_the_ledger(self):
            entries = list(
                CreditEntry.objects.filter(user=self.user).order_by("id").values_list("delta", "balance_after")
            )
            running = 0
            for delta, balance_after in entries:
                running += delta
                assert balance_after == running >= 0
            assert self.balance() == running

        @invariant()
        def xp_level_and_rank_match_the_ledger(self):
            self.user.refresh_from_db()
            total = XPEvent.objects.filter(user=self.user).aggregate(t=Sum("amount"))["t"] or 0
            assert self.user.experience_points == total >= self.last_xp
            assert self.user.level == level_for_xp(total)
            assert self.user.user_rank == rank_for_level(self.user.level)
            self.last_xp = total

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
