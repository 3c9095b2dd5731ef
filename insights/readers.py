"""SQL over the rollups plus the live slice: the rows a fact would have for a window, grouped.

`slice_sql` yields a fact's slot rows for [start, end): rolled-up slots from its table, the slots
after `rolled_until` computed from the raw tables by the same SELECT the rollup task inserts.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import connection

from insights import histograms
from insights.facts import HISTOGRAM_DAYS, Fact, raw_select


@dataclass(frozen=True)
class Slice:
    """Which slots come from where: rollups before `rolled_until`, raw rows after it."""

    start: datetime
    end: datetime
    rolled_until: datetime | None

    def sql(self, fact: Fact, *, rollup_where: str = "", raw_where: str = "", tag: str = "") -> tuple[str, dict]:
        """The fact's slot rows for [start, end); `tag` keeps two slices' parameters apart in one query."""
        columns = ", ".join(fact.columns)
        parts: list[str] = []
        params: dict = {}
        split = self.rolled_until
        if split is not None and split > self.start:
            parts.append(
                f"SELECT {columns} FROM {fact.table} "
                f"WHERE slot >= %(r_lo{tag})s AND slot < %(r_hi{tag})s {rollup_where}"
            )
            params |= {f"r_lo{tag}": self.start, f"r_hi{tag}": min(split, self.end)}
        live_from = max(self.start, split) if split is not None else self.start
        if live_from < self.end:
            live = raw_select(fact, raw_where).replace("%(lo)s", f"%(lo{tag})s").replace("%(hi)s", f"%(hi{tag})s")
            parts.append(f"SELECT {columns} FROM ({live}) live")
            params |= {f"lo{tag}": live_from, f"hi{tag}": self.end}
        if not parts:
            parts.append(f"SELECT {columns} FROM {fact.table} WHERE false")
        return "(" + " UNION ALL ".join(parts) + ")", params

    def histogram_sql(
        self, fact: Fact, *, scope: str, group: str | None = None, rollup_where: str = "", raw_where: str = "",
        day_where: str = "",
    ) -> tuple[str, dict]:  # fmt: skip
        """Rows (grp, ttft_hist, latency_hist) for the window: a HistogramDay row for every UTC day
        wholly inside it and rolled up, the slots (rolled up or live) for the rest."""
        grp = group or "''"
        full_lo = _utc_midnight(self.start, up=True)
        full_hi = _utc_midnight(min(self.end, self.rolled_until or self.start), up=False)
        if full_lo >= full_hi:
            source, params = self.sql(fact, rollup_where=rollup_where, raw_where=raw_where)
            return f"(SELECT {grp} AS grp, ttft_hist, latency_hist FROM {source} x)", params
        head, head_params = Slice(self.start, full_lo, self.rolled_until).sql(
            fact, rollup_where=rollup_where, raw_where=raw_where, tag="_h"
        )
        tail, tail_params = Slice(full_hi, self.end, self.rolled_until).sql(
            fact, rollup_where=rollup_where, raw_where=raw_where, tag="_t"
        )
        days = (
            f"SELECT {'key' if group else grp} AS grp, ttft_hist, latency_hist FROM {HISTOGRAM_DAYS} "
            f"WHERE scope = %(d_scope)s AND day >= %(d_lo)s AND day < %(d_hi)s {day_where}"
        )
        sql = (
            f"(SELECT {grp} AS grp, ttft_hist, latency_hist FROM {head} h UNION ALL {days} "
            f"UNION ALL SELECT {grp} AS grp, ttft_hist, latency_hist FROM {tail} t)"
        )
        params = head_params | tail_params | {"d_scope": scope, "d_lo": full_lo.date(), "d_hi": full_hi.date()}
        return sql, params


def _utc_midnight(moment: datetime, *, up: bool) -> datetime:
    midnight = datetime.combine(moment.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return midnight + timedelta(days=1) if up and midnight < moment else midnight


def fetch(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def local_day_sql(column: str = "slot") -> str:
    """The viewer's local date of a slot (`tz` parameter)."""
    return f"({column} AT TIME ZONE %(tz)s)::date"


def local_bucket_sql(bucket: str, column: str = "slot") -> str:
    unit = {"day": "day", "week": "week", "month": "month"}[bucket]
    return f"date_trunc('{unit}', {column} AT TIME ZONE %(tz)s)::date"


RUN_SUMS = (
    "sum(runs)::bigint AS runs, sum(completed)::bigint AS completed, sum(failed)::bigint AS failed, "
    "sum(cancelled)::bigint AS cancelled, sum(input_tokens)::bigint AS input_tokens, "
    "sum(output_tokens)::bigint AS output_tokens, sum(cost_credits)::bigint AS cost_credits"
)
RUN_FIELDS = ("runs", "completed", "failed", "cancelled", "input_tokens", "output_tokens", "cost_credits")


def histogram_sql(source: str, column: str, group: str = "") -> str:
    """Merged histogram rows (group..., bucket, n) of `column` over `source`."""
    keys = f"{group}, " if group else ""
    return (
        f"SELECT {keys}h.key::int AS bucket, sum(h.value::bigint)::bigint AS n "
        f"FROM {source} s, jsonb_each_text(s.{column}) h GROUP BY {keys}h.key"
    )


def run_histograms_sql(source: str, group: str = "") -> str:
    """Merged first-token (`kind` 'ttft') and latency ('latency') histograms in one scan of `source`."""
    keys = f"{group}, " if group else ""
    return (
        f"SELECT {keys}h.kind, h.key::int AS bucket, sum(h.value::bigint)::bigint AS n FROM {source} s, "
        f"LATERAL (SELECT 'ttft' AS kind, key, value FROM jsonb_each_text(s.ttft_hist) UNION ALL "
        f"SELECT 'latency', key, value FROM jsonb_each_text(s.latency_hist)) h GROUP BY {keys}h.kind, h.key"
    )


def percentiles(rows: Iterable[dict], qs: Iterable[float]) -> dict[float, int | None]:
    merged: dict[int, int] = {}
    for row in rows:
        merged[row["bucket"]] = merged.get(row["bucket"], 0) + row["n"]
    return {q: histograms.percentile(merged, q) for q in qs}
