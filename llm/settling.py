"""Settling a run from the event loop when the database may be failing: retries, then a hand-off.

A settle that fails (a dropped connection, a PostgreSQL restart, a deadlock) is retried with
backoff for a bounded time; `run_settle` is idempotent, so a retry after a commit whose answer
was lost changes nothing. If the database is still away, the run is reported failed with
`service_unavailable` and the same outcome, marked failed, goes to the worker to record once
the database is back; the stale sweep (`llm.runs_fail_stale`) is the last resort if the broker
is away too.
"""

import asyncio
import dataclasses
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError

from llm.models import LLMRun, RunStatus
from llm.services import RunOutcome, run_settle

logger = logging.getLogger(__name__)

UNSETTLED_CODE = "service_unavailable"
UNSETTLED_MESSAGE = "The run could not be recorded; it will be settled once the database is back."
SETTLE_LATER_TASK = "llm.run_settle_later"


def retry_delays() -> tuple[float, ...]:
    """Pauses between settle attempts (LLM_SETTLE_RETRY_DELAYS): about 16 s in all by default."""
    return tuple(getattr(settings, "LLM_SETTLE_RETRY_DELAYS", (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)))


def unsettled_outcome(outcome: RunOutcome) -> RunOutcome:
    """What the client was told of a run whose settle gave up: failed, with what it produced."""
    return dataclasses.replace(
        outcome, status=RunStatus.FAILED, error_code=UNSETTLED_CODE, error_message=UNSETTLED_MESSAGE
    )


async def settle_with_retries(run_id: str, outcome: RunOutcome) -> LLMRun | None:
    """The settled run, or None once every attempt failed (the outcome is then handed to the worker)."""
    for delay in (0.0, *retry_delays()):
        if delay:
            await asyncio.sleep(delay)
        try:
            return await database_sync_to_async(run_settle)(run_id=run_id, outcome=outcome)
        except DatabaseError:
            logger.warning("could not settle run %s; retrying", run_id, exc_info=True)
        except Exception:  # not the database's weather: a retry would fail the same way
            logger.exception("could not settle run %s", run_id)
            break
    await sync_to_async(_hand_off, thread_sensitive=False)(run_id, unsettled_outcome(outcome))
    return None


def _hand_off(run_id: str, outcome: RunOutcome) -> None:
    from celery import current_app

    if current_app.conf.task_always_eager:
        logger.error("run %s left unsettled: no worker to retry it; the stale sweep will", run_id)
        return
    try:
        signature = current_app.signature(SETTLE_LATER_TASK, args=(run_id, dataclasses.asdict(outcome)))
        signature.apply_async(retry=False)
    except Exception:
        logger.exception("run %s left unsettled: the broker is away too; the stale sweep will settle it", run_id)
