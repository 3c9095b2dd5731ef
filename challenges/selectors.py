"""Reads of challenges, attempts and leaderboards, with the visibility rules in one place.

Another user's private challenge, and another user's attempt, are simply not found. Bests,
solvers and boards are the game's (it learns every graded attempt that counts there).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from challenges.models import Attempt, AttemptStatus, Challenge, ChallengeVersion, Visibility
from game import selectors as game_selectors

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
    """Challenges `user` may see: public ones and their own (an anonymous visitor owns none)."""
    public = Q(visibility=Visibility.PUBLIC)
    if user is None or user.pk is None:  # `author_id=None` would match every built-in, private or not
        return public
    return public | Q(author_id=user.pk)


def challenge_list(*, user) -> QuerySet[Challenge]:
    """Visible challenges, with their authors."""
    return Challenge.objects.filter(challenge_visible_q(user)).select_related("author")


def challenge_get_visible(*, slug: str, user) -> Challenge:
    """The challenge if `user` may see it; Http404 otherwise."""
    challenge = challenge_list(user=user).filter(slug=slug).first()
    if challenge is None:
        raise Http404("No challenge matches the given slug.")
    return challenge


def challenge_reread(*, challenge: Challenge) -> Challenge:
    """A challenge as stored now, with its author (whether or not the caller still sees it)."""
    return Challenge.objects.select_related("author").get(pk=challenge.pk)


def challenge_version_current(challenge: Challenge) -> ChallengeVersion:
    return ChallengeVersion.objects.get(challenge=challenge, number=challenge.version)


def solved_slugs(*, user) -> list[str]:
    """The challenges the user has passed."""
    return list(game_selectors.challenge_bests(user.pk))


@dataclass(frozen=True)
class ListFigures:
    """The caller's bests and the solvers counts shown beside a page of challenges."""

    bests: dict[str, tuple[int, int]]  # slug -> (score, prompt_tokens)
    solvers: dict[str, int]

    def best_score(self, slug: str) -> int | None:
        best = self.bests.get(slug)
        return best[0] if best else None


def challenge_figures(*, challenges: list[Challenge], user) -> ListFigures:
    """The list's figures for these challenges, in two reads."""
    slugs = [challenge.slug for challenge in challenges]
    bests = game_selectors.challenge_bests(user.pk)
    return ListFigures(
        bests={slug: bests[slug] for slug in slugs if slug in bests},
        solvers=game_selectors.challenge_solvers_counts(slugs) if slugs else {},
    )


def challenge_document(challenge: Challenge) -> dict[str, Any]:
    """The export document (hidden cases included: for the author and staff only)."""
    values = {field: getattr(challenge, "allowed_models" if field == "models" else field) for field in EXPORT_FIELDS}
    return {**values, "version": challenge.version}


def public_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases a learner may see: `{id, input, checks}` of the public ones."""
    return [
        {"id": case["id"], "input": case["input"], "checks": case["checks"]} for case in cases if not case["hidden"]
    ]


def author_passed(*, challenge: Challenge) -> bool:
    """Whether the author has a passing attempt at the challenge's current version."""
    return Attempt.objects.filter(
        challenge=challenge,
        user_id=challenge.author_id,
        version__number=challenge.version,
        status=AttemptStatus.COMPLETED,
        passed=True,
    ).exists()


def challenge_solvers_count(*, challenge: Challenge) -> int:
    """Learners who have passed the challenge."""
    return game_selectors.challenge_solvers_count(challenge.slug)


def challenge_leaderboard(*, challenge: Challenge, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The challenge's board: `{rank, user, score, prompt_tokens, attempts, achieved_at}`.

    Best passing score per user; ties go to fewer prompt tokens, then to whoever got there first.
    """
    entries = game_selectors.challenge_leaderboard(challenge.slug, limit=limit, offset=offset)
    user_ids = [entry["user"]["id"] for entry in entries]
    counts = dict(
        Attempt.objects.filter(challenge=challenge, user_id__in=user_ids)
        .values("user_id")
        .annotate(count=Count("pk"))
        .values_list("user_id", "count")
    )
    return [{**entry, "attempts": counts.get(uuid.UUID(str(entry["user"]["id"])), 0)} for entry in entries]


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


def attempt_is_running_for(*, attempt_id: Any, user) -> bool:
    parsed = _parse_id(attempt_id)
    return bool(parsed) and Attempt.objects.filter(pk=parsed, user_id=user.pk, status=AttemptStatus.RUNNING).exists()


def attempt_ended_for(*, attempt_id: Any, user) -> Attempt | None:
    """The user's attempt once it has settled; None while it runs (or for anyone else's)."""
    parsed = _parse_id(attempt_id)
    if parsed is None:
        return None
    return (
        Attempt.objects.select_related("challenge", "version")
        .filter(pk=parsed, user_id=user.pk)
        .exclude(status=AttemptStatus.RUNNING)
        .first()
    )


def attempt_get_for(*, attempt_id: Any, user) -> Attempt:
    """The user's attempt; Http404 for anyone else's (and for ids that are not UUIDs)."""
    parsed = _parse_id(attempt_id)
    attempt = _attempt_rows().filter(pk=parsed, user_id=user.pk).first() if parsed else None
    if attempt is None:
        raise Http404("No attempt matches the given id.")
    return attempt
