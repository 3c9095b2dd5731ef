"""The rollup task and backfill: idempotent and exact against the raw tables (the cache: test_freshness.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from insights.facts import ALL_FACTS
from insights.models import RollupState, UserRunSlot
from insights.rollups import rollup_range, rollup_recent, slot_floor
from tests.insights.support import client_for, make_run

pytestmark = pytest.mark.django_db


def _rows() -> dict[str, list]:
    out = {}
    with connection.cursor() as cursor:
        for fact in ALL_FACTS:
            cursor.execute(f"SELECT {', '.join(fact.columns)} FROM {fact.table} ORDER BY {', '.join(fact.columns[:3])}")
            out[fact.table] = cursor.fetchall()
    return out


def test_slots_are_utc_quarter_hours():
    assert slot_floor(datetime(2026, 1, 1, 10, 44, 59, tzinfo=UTC)) == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)


def test_a_range_rolled_up_twice_gives_the_same_rows(user):
    day = datetime(2026, 2, 1, tzinfo=UTC)
    make_run(user, day + timedelta(hours=1), output_tokens=5, ttft_ms=70, latency_ms=700)
    make_run(user, day + timedelta(hours=1, minutes=5), output_tokens=6, ttft_ms=80, latency_ms=800)
    make_run(user, day + timedelta(hours=5), output_tokens=7)

    rollup_range(start=day, end=day + timedelta(days=1))
    first = _rows()
    rollup_range(start=day, end=day + timedelta(days=1))

    assert _rows() == first
    slots = UserRunSlot.objects.order_by("slot")
    assert [(row.slot.hour, row.runs, row.output_tokens) for row in slots] == [(1, 2, 11), (5, 1, 7)]
    assert sum(slots[0].ttft_hist.values()) == 2


def test_recent_rollup_stops_at_the_grace_line_and_the_live_slice_covers_the_rest(user, settings):
    settings.INSIGHTS_ROLLUP_GRACE_SECONDS = 3600
    now = datetime(2026, 3, 1, 12, 7, tzinfo=UTC)
    make_run(user, now - timedelta(hours=3))
    make_run(user, now - timedelta(minutes=10))  # newer than the grace line: not rolled up

    until = rollup_recent(now=now)

    assert until == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert sum(UserRunSlot.objects.values_list("runs", flat=True)) == 1
    body = client_for(user).get("/api/v1/insights/me/?from=2026-03-01&to=2026-03-01&tz=UTC").json()
    assert body["totals"]["runs"] == 2


def test_backfill_command_rebuilds_a_range(user):
    make_run(user, datetime(2026, 4, 2, 8, tzinfo=UTC))
    rollup_recent(now=datetime(2026, 4, 10, tzinfo=UTC))
    UserRunSlot.objects.all().delete()  # lost rows

    call_command("insights_backfill", "--from", "2026-04-01", "--to", "2026-04-03")

    assert UserRunSlot.objects.get().runs == 1


def test_backfill_without_a_range_rolls_all_history_up_to_the_grace_line(user, settings):
    settings.INSIGHTS_ROLLUP_GRACE_SECONDS = 3600
    make_run(user, datetime(2026, 1, 5, 8, tzinfo=UTC))
    make_run(user, datetime.now(UTC))  # in the live slice

    before = slot_floor(datetime.now(UTC) - timedelta(hours=1))
    call_command("insights_backfill")
    after = slot_floor(datetime.now(UTC) - timedelta(hours=1))

    assert UserRunSlot.objects.get().runs == 1
    assert RollupState.objects.get().rolled_until in {before, after}


def test_percentiles_from_day_rows_keep_the_windows_edges_exact(user):
    # given, for a Kolkata window of 3 to 5 March, runs inside it at both partial UTC days and a
    # whole one, and slow runs just outside it (its local midnights are 18:30 UTC)
    inside = [
        (datetime(2026, 3, 2, 18, 45, tzinfo=UTC), 100),  # 00:15 on the 3rd in Kolkata
        (datetime(2026, 3, 4, 12, 0, tzinfo=UTC), 200),  # a UTC day wholly inside
        (datetime(2026, 3, 5, 18, 15, tzinfo=UTC), 300),  # 23:45 on the 5th
    ]
    outside = [datetime(2026, 3, 2, 18, 15, tzinfo=UTC), datetime(2026, 3, 5, 18, 45, tzinfo=UTC)]
    for at, latency in inside:
        make_run(user, at, latency_ms=latency, ttft_ms=latency // 10)
    for at in outside:
        make_run(user, at, latency_ms=50_000, ttft_ms=5_000)
    url = "/api/v1/insights/me/?from=2026-03-03&to=2026-03-05&tz=Asia/Kolkata"
    live = client_for(user).get(url).json()["totals"]

    # when everything is rolled up (a day row for 3 and 4 March UTC, the partial days from slots)
    rollup_recent(now=datetime(2026, 3, 20, tzinfo=UTC))
    from insights.models import HistogramDay

    assert HistogramDay.objects.filter(scope="user").count() == 3  # 2, 4 and 5 March (UTC): the days with runs
    rolled = client_for(user).get(url).json()["totals"]

    # then the figures are the same, and the slow runs outside count in neither
    assert rolled == live
    assert rolled["runs"] == 3
    assert rolled["p95_latency_ms"] < 1_000
    assert rolled["median_ttft_ms"] == 20
