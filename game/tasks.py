"""Celery tasks of the game: thin wrappers over services."""

from celery import shared_task

from game import services


@shared_task(name="game.leaderboards_rebuild", ignore_result=True)
def leaderboards_rebuild() -> dict[str, int]:
    """Rebuild every leaderboard from the game's tables (beat runs it periodically; also on demand)."""
    return services.leaderboards_rebuild()
