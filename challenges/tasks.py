"""Celery tasks of the challenges app: thin wrappers over services."""

from celery import shared_task

from challenges import attempts


@shared_task(name="challenges.attempts_fail_stale", ignore_result=True)
def attempts_fail_stale() -> int:
    """Settle attempts left `running` by a server process that died (beat runs it periodically)."""
    return attempts.attempts_fail_stale()
