"""Usage analytics over time, read from the runs, templates and game ledgers (never written here).

Daily series are zero-filled over the whole window so that charts need no gap handling.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from game.models import CreditEntry, XPEvent
from llm.models import LLMRun, RunStatus
from llm.registry import parse_model_id
from prompts.models import PromptTemplate

MAX_DAYS = 365


def window_start(days: int, *, now: datetime | None = None) -> datetime:
    """Midnight (UTC) of the first day of a window of `days` days ending today."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=UTC)


def _days(since: datetime, days: int) -> list[date]:
    return [since.date() + timedelta(days=offset) for offset in range(days)]


def _zero_filled(rows: list[dict[str, Any]], since: datetime, days: int, fields: tuple[str, ...]) -> list[dict]:
    by_day = {row["day"]: row for row in rows}
    series = []
    for day in _days(since, days):
        row = by_day.get(day, {})
        series.append({"date": day.isoformat(), **{name: row.get(name) or 0 for name in fields}})
    return series


_RUN_METRICS = {
    "runs": Count("id"),
    "completed": Count("id", filter=Q(status=RunStatus.COMPLETED)),
    "failed": Count("id", filter=Q(status=RunStatus.FAILED)),
    "cancelled": Count("id", filter=Q(status=RunStatus.CANCELLED)),
    "input_tokens": Coalesce(Sum("input_tokens"), 0),
    "output_tokens": Coalesce(Sum("output_tokens"), 0),
    "cost_credits": Coalesce(Sum("cost_credits"), 0),
}


def _run_totals(runs: QuerySet[LLMRun]) -> dict[str, Any]:
    totals = runs.aggregate(
        **_RUN_METRICS,
        avg_ttft_ms=Avg("ttft_ms", filter=Q(status=RunStatus.COMPLETED)),
        avg_latency_ms=Avg("latency_ms", filter=Q(status=RunStatus.COMPLETED)),
    )
    for name in ("avg_ttft_ms", "avg_latency_ms"):
        totals[name] = None if totals[name] is None else round(totals[name], 1)
    return totals


def _run_daily(runs: QuerySet[LLMRun], since: datetime, days: int) -> list[dict[str, Any]]:
    rows = list(runs.annotate(day=TruncDate("created_at")).values("day").annotate(**_RUN_METRICS).order_by("day"))
    return _zero_filled(rows, since, days, tuple(_RUN_METRICS))


def _run_by_model(runs: QuerySet[LLMRun]) -> list[dict[str, Any]]:
    rows = runs.values("model").annotate(**_RUN_METRICS).order_by("-runs", "model")
    return list(rows)


def _ledger_daily(entries: QuerySet, value: str, since: datetime, days: int, *, name: str) -> list[dict[str, Any]]:
    rows = list(
        entries.annotate(day=TruncDate("created_at")).values("day").annotate(**{name: Sum(value)}).order_by("day")
    )
    return _zero_filled(rows, since, days, (name,))


# A run reserves its maximum cost and refunds the unused part: spending is the net of the two.
_REFUND_REASONS = ("run.refund",)


def _credit_totals(entries: QuerySet[CreditEntry]) -> dict[str, int]:
    totals = entries.aggregate(
        debits=Coalesce(Sum("delta", filter=Q(delta__lt=0)), 0),
        refunds=Coalesce(Sum("delta", filter=Q(delta__gt=0, reason__in=_REFUND_REASONS)), 0),
        earned=Coalesce(Sum("delta", filter=Q(delta__gt=0) & ~Q(reason__in=_REFUND_REASONS)), 0),
    )
    return {"credits_spent": -totals["debits"] - totals["refunds"], "credits_earned": totals["earned"]}


def _window(since: datetime, days: int) -> dict[str, Any]:
    return {"days": days, "since": since.date().isoformat()}


def user_insights(*, user, days: int) -> dict[str, Any]:
    """The caller's own runs, XP and credits over the last `days` days."""
    since = window_start(days)
    runs = LLMRun.objects.filter(user=user, created_at__gte=since)
    xp = XPEvent.objects.filter(user=user, created_at__gte=since)
    credits = CreditEntry.objects.filter(user=user, created_at__gte=since)
    return {
        "window": _window(since, days),
        "totals": {
            **_run_totals(runs),
            "xp_earned": xp.aggregate(total=Coalesce(Sum("amount"), 0))["total"],
            **_credit_totals(credits),
        },
        "daily_runs": _run_daily(runs, since, days),
        "daily_xp": _ledger_daily(xp, "amount", since, days, name="xp"),
        "daily_credits": _ledger_daily(credits, "delta", since, days, name="net_credits"),
        "by_model": _run_by_model(runs),
    }


def template_insights(*, template: PromptTemplate, days: int) -> dict[str, Any]:
    """How a template is used: runs over time, ratings, favourites and forks."""
    since = window_start(days)
    runs = LLMRun.objects.filter(template=template, created_at__gte=since)
    distribution = dict.fromkeys(range(1, 6), 0)
    for row in template.ratings.values("score").annotate(n=Count("id")):
        distribution[row["score"]] = row["n"]
    return {
        "template": {"id": str(template.pk), "title": template.title, "version": template.version},
        "window": _window(since, days),
        "totals": {
            **_run_totals(runs),
            "runners": runs.values("user_id").distinct().count(),
            "usage_count": template.usage_count,
            "rating_avg": float(template.rating_avg),
            "rating_count": template.rating_count,
            "favorites_count": template.favorites_count,
            "forks_count": template.forks.count(),
        },
        "rating_distribution": [{"score": score, "count": n} for score, n in distribution.items()],
        "daily_runs": _run_daily(runs, since, days),
        "by_model": _run_by_model(runs),
    }


def platform_insights(*, days: int) -> dict[str, Any]:
    """Platform-wide activity for staff: users, runs, providers and templates."""
    since = window_start(days)
    users = get_user_model().objects.all()
    runs = LLMRun.objects.filter(created_at__gte=since)
    new_users = list(
        users.filter(date_joined__gte=since)
        .annotate(day=TruncDate("date_joined"))
        .values("day")
        .annotate(new_users=Count("id"))
        .order_by("day")
    )
    active = list(
        runs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(active_users=Count("user_id", distinct=True))
        .order_by("day")
    )
    templates = PromptTemplate.objects.filter(created_at__gte=since)
    created = list(
        templates.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(templates_created=Count("id"))
        .order_by("day")
    )
    providers: dict[str, dict[str, int]] = {}
    for row in _run_by_model(runs):
        provider, _ = parse_model_id(row["model"])
        entry = providers.setdefault(provider, {"provider": provider, "runs": 0, "output_tokens": 0})
        entry["runs"] += row["runs"]
        entry["output_tokens"] += row["output_tokens"]
    top = PromptTemplate.objects.filter(visibility="public").order_by("-usage_count", "-rating_avg", "title")[:10]
    return {
        "window": _window(since, days),
        "totals": {
            **_run_totals(runs),
            "users": users.count(),
            "new_users": users.filter(date_joined__gte=since).count(),
            "active_users": runs.values("user_id").distinct().count(),
            "templates_created": templates.count(),
        },
        "daily_runs": _run_daily(runs, since, days),
        "daily_new_users": _zero_filled(new_users, since, days, ("new_users",)),
        "daily_active_users": _zero_filled(active, since, days, ("active_users",)),
        "daily_templates_created": _zero_filled(created, since, days, ("templates_created",)),
        "by_provider": sorted(providers.values(), key=lambda p: (-p["runs"], p["provider"])),
        "by_model": _run_by_model(runs),
        "top_templates": [
            {"id": str(t.pk), "title": t.title, "usage_count": t.usage_count, "rating_avg": float(t.rating_avg)}
            for t in top
        ],
    }
