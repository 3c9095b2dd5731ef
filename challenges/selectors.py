"""Reads of challenges, attempts and leaderboards, with the visibility rules in one place.

Another user's private challenge, and another user's attempt, are simply not found.
"""

import uuid
from typing import Any

from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404

from challenges.models import Attempt, AttemptStatus, Challenge, ChallengeVersion, Visibility

EXPORT_FIELDS = (
    "slug",
    "title",
    "summary",
    "brief",
    "track",
    "technique",
    "difficulty",
    "cases",
    "samples",
    "pass_threshold",
    "par_tokens",
    "models",
    "default_model",
    "params",
    "hints",
    "system",
    "system_hidden",
    "reference_prompt",
    "reference_system",
    "naive_prompt",
)


def challenge_visible_q(user) -> Q:
    """Challenges `user` may see: public ones and their own."""
    return Q(visibility=Visibility.PUBLIC) | Q(author_id=user.pk)


def challenge_get_visible(*, slug: str, user) -> Challenge:
    """The challenge if `user` may see it; Http404 otherwise."""
    challenge = Challenge.objects.filter(challenge_visible_q(user), slug=slug).select_related("author").first()
    if challenge is None:
        raise Http404("No challenge matches the given slug.")
    return challenge


def _passed(**filters: Any) -> QuerySet[Attempt]:
    return Attempt.objects.filter(status=AttemptStatus.COMPLETED, passed=True, **filters)


def _with_stats(challenges: QuerySet[Challenge], *, user) -> QuerySet[Challenge]:
    """Each challenge with the user's best passing score and how many learners solved it."""
    best = _passed(challenge=OuterRef("pk"), user_id=user.pk).values("challenge").annotate(best=Max("score"))
    solvers = (
        _passed(challenge=OuterRef("pk")).values("challenge").annotate(count=Count("user", distinct=True))
    ).values("count")
    return challenges.select_related("author").annotate(
        best_score=Subquery(best.values("best"), output_field=IntegerField()),
        solvers_count=Coalesce(Subquery(solvers, output_field=IntegerField()), 0),
    )


def challenge_list(*, user) -> QuerySet[Challenge]:
    """Visible challenges, with the caller's best score and the solvers count."""
    return _with_stats(Challenge.objects.filter(challenge_visible_q(user)), user=user)


def challenge_row(*, challenge: Challenge, user) -> Challenge:
    """One challenge the caller just changed, with the list's figures (whether or not they still see it)."""
    return _with_stats(Challenge.objects.filter(pk=challenge.pk), user=user).get()


def challenge_solvers_count(*, challenge: Challenge) -> int:
    """Learners with a passing attempt at the challenge."""
    return _passed(challenge=challenge).values("user_id").distinct().count()


def challenge_detail(*, slug: str, user) -> Challenge:
    """One visible challenge, annotated like the list."""
    challenge = challenge_list(user=user).filter(slug=slug).first()
    if challenge is None:
        raise Http404("No challenge matches the given slug.")
    return challenge


def challenge_version_current(challenge: Challenge) -> ChallengeVersion:
    return ChallengeVersion.objects.get(challenge=challenge, number=challenge.version)


def challenge_document(challenge: Challenge) -> dict[str, Any]:
    """The export document (hidden cases included: for the author and staff only)."""
    values = {field: getattr(challenge, "allowed_models" if field == "models" else field) for field in EXPORT_FIELDS}
    return {**values, "version": challenge.version}


def public_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases a learner may see: `{id, input, checks}` of the public ones."""
    return [
        {"id": case["id"], "input": case["input"], "checks": case["checks"]} for case in cases if not case["hidden"]
    ]


def challenge_leaderboard(*, challenge: Challenge, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Best passing score per user: `{rank, user, score, prompt_tokens, attempts, achieved_at}`.

    Ties go to fewer prompt tokens, then to whoever got there first.
    """
    order = (F("score").desc(), F("prompt_tokens").asc(), F("finished_at").asc())
    bests = (
        _passed(challenge=challenge)
        .annotate(position=Window(RowNumber(), partition_by=[F("user_id")], order_by=order))
        .filter(position=1)
        .select_related("user")
        .order_by(*order, "user_id")
    )
    page = list(bests[offset : offset + limit])
    counts = dict(
        Attempt.objects.filter(challenge=challenge, user_id__in=[best.user_id for best in page])
        .values("user_id")
        .annotate(count=Count("pk"))
        .values_list("user_id", "count")
    )
    return [
        {
            "rank": offset + index,
            "user": {"id": best.user_id, "username": best.user.username},
            "score": best.score,
            "prompt_tokens": best.prompt_tokens,
            "attempts": counts.get(best.user_id, 0),
            "achieved_at": best.finished_at,
        }
        for index, best in enumerate(page, start=1)
    ]


def challenge_best(*, challenge: Challenge, user_id) -> tuple[int, int] | None:
    """The user's best passing (score, prompt_tokens) on the challenge, if any."""
    best = (
        _passed(challenge=challenge, user_id=user_id)
        .order_by("-score", "prompt_tokens", "finished_at")
        .values_list("score", "prompt_tokens")
        .first()
    )
    return best


def _parse_id(attempt_id: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(attempt_id))
    except (ValueError, TypeError, AttributeError):
        return None


def _attempt_rows() -> QuerySet[Attempt]:
    return Attempt.objects.select_related("challenge", "version").prefetch_related("samples")


def attempt_list_for(*, user, challenge: Challenge) -> QuerySet[Attempt]:
    """The user's attempts at a challenge, newest first, ready to serialise."""
    return _attempt_rows().filter(user_id=user.pk, challenge=challenge).order_by("-created_at")


def attempt_get_for(*, attempt_id: Any, user) -> Attempt:
    """The user's attempt; Http404 for anyone else's (and for ids that are not UUIDs)."""
    parsed = _parse_id(attempt_id)
    attempt = _attempt_rows().filter(pk=parsed, user_id=user.pk).first() if parsed else None
    if attempt is None:
        raise Http404("No attempt matches the given id.")
    return attempt
