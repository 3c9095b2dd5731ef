"""Game services: every write to progress (XP, level, rank), credits, badges and streaks.

Other apps call these; they never write game or counter fields themselves. Each service runs
in one transaction and broadcasts live events only on commit.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import DEFAULT_RANK
from game.broadcast import Outbox
from game.events import CreditsChanged
from game.models import Activity, CreditEntry, PlayerStats
from game.timeutils import local_today

User = get_user_model()


class InsufficientCredits(Exception):
    """The balance does not cover the amount; nothing was written."""


@dataclass(frozen=True)
class CreditResult:
    entry_id: int
    balance: int
    delta: int
    created: bool  # False when the idempotency key had been used: the first result is returned


def _credit_result(entry: CreditEntry, *, created: bool) -> CreditResult:
    return CreditResult(entry_id=entry.pk, balance=entry.balance_after, delta=entry.delta, created=created)


def _validate_credit_args(amount: int, reason: str, idempotency_key: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer")
    if not reason or not idempotency_key:
        raise ValueError("reason and idempotency_key are required")


def _credits_change(
    *, user_id, delta: int, reason: str, idempotency_key: str, source: str, outbox: Outbox
) -> CreditResult:
    """Apply `delta` with its ledger row; call inside a transaction. Idempotent per (user, key)."""
    prior = CreditEntry.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
    if prior is not None:
        return _credit_result(prior, created=False)
    try:
        # Savepoint: a concurrent call with the same key that commits first makes our insert
        # fail; we undo our counter update and answer with its row instead.
        with transaction.atomic():
            users = User.objects.filter(pk=user_id)
            if delta < 0:
                users = users.filter(credits__gte=-delta)  # the atomic never-overdraw guard
            if users.update(credits=F("credits") + delta) != 1:
                raise InsufficientCredits(f"balance does not cover {-delta} credits")
            balance = User.objects.values_list("credits", flat=True).get(pk=user_id)
            entry = CreditEntry.objects.create(
                user_id=user_id,
                delta=delta,
                balance_after=balance,
                reason=reason,
                source=source,
                idempotency_key=idempotency_key,
            )
    except (IntegrityError, InsufficientCredits):
        # The twin with our key may have committed while we waited for the user's row lock.
        prior = CreditEntry.objects.filter(user_id=user_id, idempotency_key=idempotency_key).first()
        if prior is not None:
            return _credit_result(prior, created=False)
        raise
    outbox.add(user_id, CreditsChanged(balance=balance, delta=delta, reason=reason))
    return _credit_result(entry, created=True)


def credits_spend(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Take `amount` credits, never overdrawing (raises InsufficientCredits); idempotent per key."""
    _validate_credit_args(amount, reason, idempotency_key)
    outbox = Outbox()
    with transaction.atomic():
        result = _credits_change(
            user_id=user_id, delta=-amount, reason=reason, idempotency_key=idempotency_key, source=source, outbox=outbox
        )
        outbox.send_on_commit()
    return result


def credits_grant(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Give `amount` credits (refunds, rewards); idempotent per key."""
    _validate_credit_args(amount, reason, idempotency_key)
    outbox = Outbox()
    with transaction.atomic():
        result = _credits_change(
            user_id=user_id, delta=amount, reason=reason, idempotency_key=idempotency_key, source=source, outbox=outbox
        )
        outbox.send_on_commit()
    return result


def player_onboard(*, user) -> None:
    """New user (inside the registration transaction): welcome credits and starting progress."""
    outbox = Outbox()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(level=1, experience_points=0, user_rank=DEFAULT_RANK)
        PlayerStats.objects.get_or_create(user_id=user.pk)
        result = _credits_change(
            user_id=user.pk,
            delta=settings.WELCOME_CREDITS,
            reason="welcome",
            idempotency_key="welcome",
            source="",
            outbox=outbox,
        )
        outbox.send_on_commit()
    # Keep the caller's instance in step with the row (registration answers with it).
    user.credits, user.level, user.experience_points, user.user_rank = result.balance, 1, 0, DEFAULT_RANK


def activity_record(*, user_id, activity: str, idempotency_key: str, data: dict[str, Any] | None = None) -> None:
    """A fact from a higher layer credited to `user_id` (e.g. "run.completed"); awards what the rules say."""
    with transaction.atomic():
        tz_name = User.objects.values_list("timezone", flat=True).get(pk=user_id)
        Activity.objects.get_or_create(
            user_id=user_id,
            idempotency_key=idempotency_key,
            defaults={"activity": activity, "data": data or {}, "local_date": local_today(tz_name)},
        )
