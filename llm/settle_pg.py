"""The run settle on PostgreSQL in one statement: the run's end, and its refund with the ledger row.

Through the ORM a settle locks and reads the run, saves it and refunds through
`game.services.credits_grant`: six round trips and about 2.5 ms of CPU, spent in worker threads
that compete with the event loop streaming every other run's tokens, all at once when many runs
end together. The runner holds the run as it started, so what it costs is computed before the
statement: one UPDATE moves the run out of `running` (only if it still is, so a run settles
once), and only then do the CTEs of `game.credits_sql.grant_ctes` give the unused reservation
back with its ledger row. The user row is locked after the run row, as in the ORM path.

The SQL is built from the models' quoted identifiers and constant names; every value is a `%s`
parameter (hence the S608 exemptions).
"""

import functools
from dataclasses import dataclass

from django.db import connection

from game import credits_sql
from game.broadcast import Outbox
from game.credits_sql import Sql
from game.sql_names import column, quote
from llm.models import LLMRun, RunStatus
from llm.pg_trip import one_trip

REFUND_REASON = "run.refund"
SETTLE_FIELDS = (
    "status",
    "output",
    "input_tokens",
    "output_tokens",
    "cost_credits",
    "ttft_ms",
    "latency_ms",
    "error_code",
    "error_message",
    "finished_at",
)
_SETTLED = "run_settled"


@dataclass(frozen=True)
class SettleResult:
    settled: bool  # this statement ended the run (it was still running)
    balance_after: int | None  # the balance after the refund, when there was one


@functools.cache
def _settle_fields() -> tuple:
    return tuple(LLMRun._meta.get_field(name) for name in SETTLE_FIELDS)


@functools.cache
def _update_text() -> str:
    table, pk = quote(LLMRun._meta.db_table), quote(LLMRun._meta.pk.column)
    assignments = ", ".join(f"{column(LLMRun, name)} = %s" for name in SETTLE_FIELDS)
    status = column(LLMRun, "status")
    return f"{_SETTLED} AS (UPDATE {table} SET {assignments} WHERE {pk} = %s AND {status} = %s RETURNING 1)"  # noqa: S608


def _settle_statement(run: LLMRun, *, refund: int) -> Sql:
    values = tuple(f.get_db_prep_save(getattr(run, f.attname), connection) for f in _settle_fields())
    ctes = [Sql(_update_text(), (*values, run.pk, RunStatus.RUNNING.value))]
    balance = "NULL::integer"
    if refund > 0:
        ctes.append(
            credits_sql.grant_ctes(
                user_id=run.user_id,
                amount=refund,
                reason=REFUND_REASON,
                idempotency_key=f"run:{run.pk}:refund",
                source=f"llm.run:{run.pk}",
                created_at=run.finished_at,
                guard=Sql(f"EXISTS (SELECT FROM {_SETTLED})"),
            )
        )
        balance = f"(SELECT balance_after FROM {credits_sql.GRANTED})"  # noqa: S608
    text = f"WITH {', '.join(cte.text for cte in ctes)} SELECT EXISTS (SELECT FROM {_SETTLED}), {balance}"  # noqa: S608
    return Sql(text, tuple(p for cte in ctes for p in cte.params))


def run_update_settled(run: LLMRun, *, refund: int, outbox: Outbox) -> SettleResult:
    """Write the settled fields of `run` (set by the caller) and refund `refund` credits, if still running.

    The refund's `credits.changed` goes into `outbox`; the caller sends it after commit.
    """
    settled, balance_after = one_trip([_settle_statement(run, refund=refund)])
    if settled and refund > 0:
        credits_sql.granted_announce(
            user_id=run.user_id, amount=refund, balance=balance_after, reason=REFUND_REASON, outbox=outbox
        )
    return SettleResult(settled=settled, balance_after=balance_after)
