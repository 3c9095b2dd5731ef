"""Game services: every write to progress (XP, level, rank), credits, badges and streaks.

Other apps call these; they never write game or counter fields themselves. Each service runs
in one transaction and broadcasts live events only on commit.
"""

from dataclasses import dataclass
from typing import Any


class InsufficientCredits(Exception):
    """The balance does not cover the amount; nothing was written."""


@dataclass(frozen=True)
class CreditResult:
    entry_id: int
    balance: int
    delta: int
    created: bool  # False when the idempotency key had been used: the first result is returned


def player_onboard(*, user) -> None:
    """New user (inside the registration transaction): welcome credits and starting progress."""
    raise NotImplementedError


def credits_spend(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Take `amount` credits, never overdrawing (raises InsufficientCredits); idempotent per key."""
    raise NotImplementedError


def credits_grant(*, user_id, amount: int, reason: str, idempotency_key: str, source: str = "") -> CreditResult:
    """Give `amount` credits (refunds, rewards); idempotent per key."""
    raise NotImplementedError


def activity_record(*, user_id, activity: str, idempotency_key: str, data: dict[str, Any] | None = None) -> None:
    """A fact from a higher layer credited to `user_id` (e.g. "run.completed"); awards what the rules say."""
    raise NotImplementedError
