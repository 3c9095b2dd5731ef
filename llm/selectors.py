"""Reads of runs: a user's history and single runs (another user's run is simply not found).

Sealed runs (hidden challenge cases) are never the user's to read: not listed, not found.
"""

from django.db.models import QuerySet, Sum

from llm.models import LLMRun, RunStatus


def run_list_for(*, user) -> QuerySet[LLMRun]:
    """The user's runs, newest first."""
    return LLMRun.objects.filter(user_id=user.pk, sealed=False).order_by("-created_at")


def run_get_for(*, run_id, user) -> LLMRun | None:
    """The user's run with that id, or None (also for other users' runs)."""
    return LLMRun.objects.filter(pk=run_id, user_id=user.pk, sealed=False).first()


def run_is_running_for(*, run_id, user) -> bool:
    return LLMRun.objects.filter(pk=run_id, user_id=user.pk, sealed=False, status=RunStatus.RUNNING).exists()


def runs_cost(*, run_ids) -> int:
    """The credits these runs cost together (a caller that prepaid them settles with this)."""
    return LLMRun.objects.filter(pk__in=list(run_ids)).aggregate(total=Sum("cost_credits"))["total"] or 0
