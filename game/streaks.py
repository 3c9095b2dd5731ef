"""Streak arithmetic on local calendar days (DST-proof: days, not 24-hour spans)."""

from dataclasses import dataclass
from datetime import date

from game.rules import STREAK_FREEZE_EVERY, STREAK_FREEZES_MAX


@dataclass(frozen=True)
class StreakState:
    days: int = 0
    best: int = 0
    last_date: date | None = None
    freezes: int = 0


def streak_advance(state: StreakState, today: date) -> StreakState:
    """The streak after activity on local day `today`.

    Same day (or an earlier day, after a timezone change): unchanged. Next day: one longer.
    Missed days are covered by held freezes, one each; otherwise the streak restarts at 1.
    Every STREAK_FREEZE_EVERY days of streak earn a freeze, up to STREAK_FREEZES_MAX held.
    """
    if state.last_date is not None and today <= state.last_date:
        return state
    days, freezes = state.days, state.freezes
    missed = (today - state.last_date).days - 1 if state.last_date else None
    if missed is None or days == 0:
        days = 1
    elif missed <= freezes:
        freezes -= missed
        days += 1
    else:
        days = 1
    if days % STREAK_FREEZE_EVERY == 0:
        freezes = min(freezes + 1, STREAK_FREEZES_MAX)
    return StreakState(days=days, best=max(state.best, days), last_date=today, freezes=freezes)


def streak_current(state: StreakState, today: date) -> int:
    """The streak as shown on `today`: still alive if the missed days since are coverable by freezes."""
    if state.last_date is None:
        return 0
    missed = (today - state.last_date).days - 1
    return state.days if missed <= state.freezes else 0
