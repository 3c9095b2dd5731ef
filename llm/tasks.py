"""Celery tasks of the llm app: thin wrappers over services."""

import logging

from celery import shared_task

from llm import services

logger = logging.getLogger(__name__)


@shared_task(name="llm.runs_fail_stale", ignore_result=True)
def runs_fail_stale() -> int:
    """Settle runs left `running` by a server process that died (beat runs it periodically)."""
    return services.runs_fail_stale()


@shared_task(name="llm.run_completed_record", ignore_result=True)
def run_completed_record(run_id: str) -> None:
    """Award what a completed run earns (the game's rules); idempotent, so redelivery is harmless."""
    services.run_completed_record(run_id=run_id)


@shared_task(name="llm.runs_completed_record", ignore_result=True)
def runs_completed_record(run_ids: list[str]) -> None:
    """`run_completed_record` for each run of a batch (llm.completions): each in its own transaction."""
    failed = 0
    for run_id in run_ids:
        try:
            services.run_completed_record(run_id=run_id)
        except Exception:  # one bad run must not cost the others their XP
            failed += 1
            logger.exception("could not record completed run %s", run_id)
    if failed:
        raise RuntimeError(f"{failed} of {len(run_ids)} completed runs were not recorded")
