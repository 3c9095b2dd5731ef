"""Celery tasks of the llm app: thin wrappers over services."""

from celery import shared_task

from llm import services


@shared_task(name="llm.runs_fail_stale", ignore_result=True)
def runs_fail_stale() -> int:
    """Settle runs left `running` by a server process that died (beat runs it periodically)."""
    return services.runs_fail_stale()


@shared_task(name="llm.run_completed_record", ignore_result=True)
def run_completed_record(run_id: str) -> None:
    """Award what a completed run earns (the game's rules); idempotent, so redelivery is harmless."""
    services.run_completed_record(run_id=run_id)
