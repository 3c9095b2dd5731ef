"""Reads of runs: a user's history and single runs (another user's run is simply not found)."""

from django.db.models import QuerySet

from llm.models import LLMRun, RunStatus


def run_list_for(*, user) -> QuerySet[LLMRun]:
    """The user's runs, newest first."""
    return LLMRun.objects.filter(user_id=user.pk).order_by("-created_at")


def run_get_for(*, run_id, user) -> LLMRun | None:
    """The user's run with that id, or None (also for other users' runs)."""
    return LLMRun.objects.filter(pk=run_id, user_id=user.pk).first()


def run_is_running_for(*, run_id, user) -> bool:
    return LLMRun.objects.filter(pk=run_id, user_id=user.pk, status=RunStatus.RUNNING).exists()
