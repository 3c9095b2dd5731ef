from datetime import datetime

from celery import shared_task

from insights import rollups


@shared_task(name="insights.rollup_recent", ignore_result=True)
def rollup_recent() -> str | None:
    """Beat: roll up the slots that became final since the last run."""
    until = rollups.rollup_recent()
    return until.isoformat() if until else None


@shared_task(name="insights.rollup_range", ignore_result=True)
def rollup_range(start: str, end: str) -> int:
    """Roll any UTC range up again (ISO datetimes), a day per transaction."""
    return rollups.rollup_days(start=datetime.fromisoformat(start), end=datetime.fromisoformat(end))
