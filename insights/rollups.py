"""The rollup writer: slots of a UTC range deleted and inserted again from the raw tables.

Re-running any range gives the same rows (idempotent). One range is one transaction under an
advisory lock, so two writers (the beat task and a backfill) queue instead of colliding.
`rollup_recent` advances `RollupState.rolled_until` to the last slot whose runs and attempts can
no longer change (older than INSIGHTS_ROLLUP_GRACE_SECONDS: every run or attempt has settled by
then, the stale ones by the sweeps); readers take the slots after it from the raw tables.
"""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from challenges.models import Attempt
from game.models import CreditEntry, XPEvent
from insights import freshness
from insights.facts import ALL_FACTS, HISTOGRAM_DAY_WRITES, HISTOGRAM_DAYS, raw_select
from insights.models import RollupState
from llm.models import LLMRun

SLOT = timedelta(minutes=15)
_LOCK_KEY = 0x1A5167  # pg_advisory_xact_lock key of the rollup writer
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def slot_floor(moment: datetime) -> datetime:
    return moment - (moment - _EPOCH) % SLOT


def grace() -> timedelta:
    return timedelta(seconds=settings.INSIGHTS_ROLLUP_GRACE_SECONDS)


def rollup_range(*, start: datetime, end: datetime) -> None:
    """Write every rollup row of the slots in [start, end) again from the raw tables."""
    start, end = slot_floor(start), slot_floor(end)
    if start >= end:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        for fact in ALL_FACTS:
            cursor.execute(f"DELETE FROM {fact.table} WHERE slot >= %s AND slot < %s", [start, end])
            cursor.execute(
                f"INSERT INTO {fact.table} ({', '.join(fact.columns)}) {raw_select(fact)}", {"lo": start, "hi": end}
            )
        # Every UTC day the range touches, again from all of that day's slots.
        d_lo = datetime.combine(start.astimezone(UTC).date(), time.min, tzinfo=UTC)
        d_hi = datetime.combine((end - SLOT).astimezone(UTC).date(), time.min, tzinfo=UTC) + timedelta(days=1)
        cursor.execute(f"DELETE FROM {HISTOGRAM_DAYS} WHERE day >= %s AND day < %s", [d_lo.date(), d_hi.date()])
        for sql in HISTOGRAM_DAY_WRITES:
            cursor.execute(sql, {"d_lo": d_lo, "d_hi": d_hi})
        state, _ = RollupState.objects.select_for_update().get_or_create(pk=1)
        state.generation += 1
        state.save(update_fields=["generation", "updated_at"])
        freshness.touch(freshness.ALL)  # rows rewritten: every cached document is computed again


def rollup_days(*, start: datetime, end: datetime, step: timedelta = timedelta(days=1)) -> int:
    """Roll [start, end) up one `step` (a transaction) at a time; returns how many steps ran."""
    start, end = slot_floor(start), slot_floor(end)
    steps = 0
    while start < end:
        rollup_range(start=start, end=min(start + step, end))
        start += step
        steps += 1
    return steps


def earliest_fact() -> datetime | None:
    """When the oldest run, ledger entry or attempt was written."""
    firsts = [
        model.objects.aggregate(first=Min("created_at"))["first"] for model in (LLMRun, XPEvent, CreditEntry, Attempt)
    ]
    firsts = [first for first in firsts if first is not None]
    return min(firsts) if firsts else None


def rollup_recent(*, now: datetime | None = None) -> datetime | None:
    """Roll up every final slot not rolled up yet and move `rolled_until` on; returns it."""
    target = slot_floor((now or timezone.now()) - grace())
    state, _ = RollupState.objects.get_or_create(pk=1)
    start = state.rolled_until or earliest_fact()
    if start is not None and start < target:
        rollup_days(start=start, end=target)
    return _advance(target)


def rollup_all(*, now: datetime | None = None) -> tuple[int, datetime]:
    """Roll all history up again, to the grace line; returns the steps run and the line."""
    target = slot_floor((now or timezone.now()) - grace())
    first = earliest_fact()
    steps = rollup_days(start=first, end=target) if first is not None else 0
    _advance(target)
    return steps, target


def _advance(target: datetime) -> datetime | None:
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update().get_or_create(pk=1)
        if state.rolled_until is None or state.rolled_until < target:
            state.rolled_until = target
            state.generation += 1
            state.save(update_fields=["rolled_until", "generation", "updated_at"])
            freshness.touch(freshness.ALL)
    return state.rolled_until


def rolled_until() -> tuple[datetime | None, int]:
    """How far the rollups reach and their generation (how many times they were written)."""
    row = RollupState.objects.filter(pk=1).values_list("rolled_until", "generation").first()
    return row if row else (None, 0)
