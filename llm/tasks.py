"""Celery tasks of the llm app: thin wrappers over services."""

from celery import shared_task
from django.db import DatabaseError

from llm import services


@shared_task(name="llm.runs_fail_stale", ignore_result=True)
def runs_fail_stale() -> int:
    """Settle runs left `running` by a server process that died (beat runs it periodically)."""
    return services.runs_fail_stale()


@shared_task(name="llm.run_completed_record", ignore_result=True)
def run_completed_record(run_id: str) -> None:
    """Award what a completed run earns (the game's rules); idempotent, so redelivery is harmless."""
    services.run_completed_record(run_id=run_id)


@shared_task(
    name="llm.run_settle_later",
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=20,
)
def run_settle_later(run_id: str, outcome: dict) -> None:
    """Record the end of a run whose server could not (llm.settling); idempotent like every settle."""
    services.run_settle(run_id=run_id, outcome=services.RunOutcome(**outcome))


@shared_task(name="llm.connections_probe", ignore_result=True)
def connections_probe() -> dict[str, bool]:
    """Probe every enabled connection's models list and record up/down and latency (beat, every minute)."""
    from llm import connection_services

    return connection_services.connections_probe()
