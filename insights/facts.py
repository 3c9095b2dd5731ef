"""The raw tables summed into quarter-hour slot rows: one SELECT per rollup table.

The rollup task inserts these rows (`insights.rollups`); the readers take the same SELECT over the
slots not rolled up yet (the live slice), so both paths count alike. Each SELECT takes the named
parameters `lo` and `hi` (created_at bounds) and an optional extra filter on the raw rows.
"""

from dataclasses import dataclass

from challenges.models import Attempt, AttemptSample
from game.models import CreditEntry, XPEvent
from insights import models as rollups
from insights.histograms import bucket_sql
from llm.models import LLMRun

SLOT_SQL = "date_bin('15 minutes', {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
REFUND_REASONS = ("run.refund", "attempt.refund")  # the unused part of a reservation, given back


def slot_of(column: str) -> str:
    return SLOT_SQL.format(column=column)


@dataclass(frozen=True)
class Fact:
    """One rollup table: its columns and the SELECT that yields its rows from the raw tables."""

    table: str
    columns: tuple[str, ...]
    select: str  # with {where} for an extra AND-ed filter on the raw rows


_RUN_METRICS = (
    "runs",
    "completed",
    "failed",
    "cancelled",
    "input_tokens",
    "output_tokens",
    "cost_credits",
    "ttft_hist",
    "latency_hist",
)


def _run_select(dims: tuple[tuple[str, str], ...], filters: str = "") -> str:
    names = ", ".join(name for name, _ in dims)
    exprs = ", ".join(f"{expr} AS {name}" for name, expr in dims)
    keys = f"{names}, slot"
    return f"""
WITH base AS (
    SELECT {exprs}, {slot_of("created_at")} AS slot, status, input_tokens, output_tokens, cost_credits,
           CASE WHEN status = 'completed' THEN {bucket_sql("ttft_ms")} END AS tb,
           CASE WHEN status = 'completed' THEN {bucket_sql("latency_ms")} END AS lb
    FROM {LLMRun._meta.db_table}
    WHERE created_at >= %(lo)s AND created_at < %(hi)s {filters} {{where}}
), facts AS (
    SELECT {keys}, count(*) AS runs,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cost_credits) AS cost_credits
    FROM base GROUP BY {keys}
), th AS (
    SELECT {keys}, jsonb_object_agg(tb, n) AS h
    FROM (SELECT {keys}, tb, count(*) AS n FROM base WHERE tb IS NOT NULL GROUP BY {keys}, tb) t
    GROUP BY {keys}
), lh AS (
    SELECT {keys}, jsonb_object_agg(lb, n) AS h
    FROM (SELECT {keys}, lb, count(*) AS n FROM base WHERE lb IS NOT NULL GROUP BY {keys}, lb) t
    GROUP BY {keys}
)
SELECT {", ".join(f"f.{name}" for name, _ in dims)}, f.slot, f.runs, f.completed, f.failed, f.cancelled,
       f.input_tokens, f.output_tokens, f.cost_credits,
       coalesce(th.h, '{{}}'::jsonb) AS ttft_hist, coalesce(lh.h, '{{}}'::jsonb) AS latency_hist
FROM facts f LEFT JOIN th USING ({keys}) LEFT JOIN lh USING ({keys})
"""


USER_RUNS = Fact(
    table=rollups.UserRunSlot._meta.db_table,
    columns=("user_id", "model", "slot", *_RUN_METRICS),
    select=_run_select((("user_id", "user_id"), ("model", "model"))),
)

TEMPLATE_RUNS = Fact(
    table=rollups.TemplateRunSlot._meta.db_table,
    columns=("template_id", "user_id", "model", "slot", *_RUN_METRICS),
    select=_run_select(
        (("template_id", "template_id"), ("user_id", "user_id"), ("model", "model")), "AND template_id IS NOT NULL"
    ),
)

MODEL_RUNS = Fact(
    table=rollups.ModelRunSlot._meta.db_table,
    columns=("model", "provider", "error_code", "slot", *_RUN_METRICS),
    select=_run_select((("model", "model"), ("provider", "split_part(model, ':', 1)"), ("error_code", "error_code"))),
)

_REFUNDS = ", ".join(f"'{reason}'" for reason in REFUND_REASONS)

USER_LEDGER = Fact(
    table=rollups.UserLedgerSlot._meta.db_table,
    columns=("user_id", "slot", "xp", "credits_spent", "credits_earned"),
    select=f"""
SELECT user_id, slot, sum(xp) AS xp, sum(spent) AS credits_spent, sum(earned) AS credits_earned
FROM (
    SELECT user_id, {slot_of("created_at")} AS slot, amount AS xp, 0 AS spent, 0 AS earned
    FROM {XPEvent._meta.db_table} WHERE created_at >= %(lo)s AND created_at < %(hi)s {{where}}
    UNION ALL
    SELECT user_id, {slot_of("created_at")},
           0, CASE WHEN delta < 0 OR reason IN ({_REFUNDS}) THEN -delta ELSE 0 END,
           CASE WHEN delta > 0 AND reason NOT IN ({_REFUNDS}) THEN delta ELSE 0 END
    FROM {CreditEntry._meta.db_table} WHERE created_at >= %(lo)s AND created_at < %(hi)s {{where}}
) ledger
GROUP BY user_id, slot
""",
)

CHALLENGES = Fact(
    table=rollups.ChallengeSlot._meta.db_table,
    columns=(
        "challenge_id",
        "user_id",
        "slot",
        "attempts",
        "finished",
        "passed",
        "best_score",
        "cost_credits",
        "pass_tokens_hist",
    ),
    select=f"""
WITH base AS (
    SELECT challenge_id, user_id, {slot_of("created_at")} AS slot, status, passed, score, cost_credits,
           CASE WHEN passed THEN {bucket_sql("prompt_tokens")} END AS pb
    FROM {Attempt._meta.db_table}
    WHERE created_at >= %(lo)s AND created_at < %(hi)s {{where}}
), ph AS (
    SELECT challenge_id, user_id, slot, jsonb_object_agg(pb, n) AS h
    FROM (SELECT challenge_id, user_id, slot, pb, count(*) AS n FROM base WHERE pb IS NOT NULL
          GROUP BY challenge_id, user_id, slot, pb) t
    GROUP BY challenge_id, user_id, slot
)
SELECT b.challenge_id, b.user_id, b.slot, count(*) AS attempts,
       count(*) FILTER (WHERE b.status = 'completed') AS finished,
       count(*) FILTER (WHERE b.passed) AS passed,
       coalesce(max(b.score) FILTER (WHERE b.passed), 0) AS best_score,
       sum(b.cost_credits) AS cost_credits,
       coalesce(min(ph.h::text)::jsonb, '{{}}'::jsonb) AS pass_tokens_hist
FROM base b LEFT JOIN ph USING (challenge_id, user_id, slot)
GROUP BY b.challenge_id, b.user_id, b.slot
""",
)

CASES = Fact(
    table=rollups.ChallengeCaseSlot._meta.db_table,
    columns=("challenge_id", "case_id", "slot", "samples", "failed"),
    select=f"""
SELECT a.challenge_id, s.case_id, {slot_of("a.created_at")} AS slot, count(*) AS samples,
       count(*) FILTER (WHERE NOT s.passed) AS failed
FROM {AttemptSample._meta.db_table} s JOIN {Attempt._meta.db_table} a ON a.id = s.attempt_id
WHERE a.created_at >= %(lo)s AND a.created_at < %(hi)s AND s.passed IS NOT NULL {{where}}
GROUP BY a.challenge_id, s.case_id, 3
""",
)

ALL_FACTS = (USER_RUNS, USER_LEDGER, TEMPLATE_RUNS, MODEL_RUNS, CHALLENGES, CASES)


def raw_select(fact: Fact, where: str = "") -> str:
    """The fact's SELECT over raw rows in [lo, hi), with `where` (starting with AND) added."""
    return fact.select.replace("{where}", where)


HISTOGRAM_DAYS = rollups.HistogramDay._meta.db_table


def histogram_days_sql(scope: str, slot_table: str, key_sql: str) -> str:
    """Insert the histogram days [d_lo, d_hi) of `scope` from `slot_table`'s rows (every slot of those days)."""
    return f"""
INSERT INTO {HISTOGRAM_DAYS} (scope, key, day, ttft_hist, latency_hist)
SELECT '{scope}', k, d,
       coalesce(jsonb_object_agg(b, n) FILTER (WHERE kind = 't'), '{{}}'::jsonb),
       coalesce(jsonb_object_agg(b, n) FILTER (WHERE kind = 'l'), '{{}}'::jsonb)
FROM (
    SELECT {key_sql} AS k, (slot AT TIME ZONE 'UTC')::date AS d, h.kind, h.key AS b, sum(h.value::bigint) AS n
    FROM {slot_table} s,
         LATERAL (SELECT 't' AS kind, key, value FROM jsonb_each_text(s.ttft_hist) UNION ALL
                  SELECT 'l', key, value FROM jsonb_each_text(s.latency_hist)) h
    WHERE s.slot >= %(d_lo)s AND s.slot < %(d_hi)s
    GROUP BY 1, 2, 3, 4
) e
GROUP BY k, d
"""


HISTOGRAM_DAY_WRITES = (
    histogram_days_sql("user", rollups.UserRunSlot._meta.db_table, "user_id::text"),
    histogram_days_sql("provider", rollups.ModelRunSlot._meta.db_table, "provider"),
)
