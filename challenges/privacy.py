"""challenges' part of a learner's export and erasure: the challenges they wrote and their attempts."""

from typing import Any

from django.db.models import Exists, OuterRef

from accounts.privacy import PrivacyPart
from challenges.models import Attempt, AttemptSample, Challenge, Visibility
from challenges.selectors import challenge_document
from challenges.serializers import AttemptSerializer


def export(*, user) -> dict[str, Any]:
    authored = Challenge.objects.filter(author_id=user.pk).order_by("created_at", "pk")
    attempts = (
        Attempt.objects.filter(user_id=user.pk)
        .select_related("challenge", "version")
        .prefetch_related("samples")
        .order_by("created_at", "pk")
    )
    return {
        # The author's own documents (hidden cases included: they wrote them).
        "challenges": [{"slug": c.slug, "visibility": c.visibility, **challenge_document(c)} for c in authored],
        # As the attempts endpoint shows them: hidden cases' pass/fail only.
        "attempts": AttemptSerializer(attempts, many=True).data,
    }


def erase(*, user, heir) -> None:
    """The learner's prompts and outputs leave their attempts (scores stay: boards and insights count them);
    private challenges nobody else attempted go, the others stay, the heir's."""
    others = Attempt.objects.filter(challenge=OuterRef("pk")).exclude(user_id=user.pk)
    authored = Challenge.objects.filter(author_id=user.pk)
    authored.filter(visibility=Visibility.PRIVATE).exclude(Exists(others)).delete()
    if authored.exists():
        authored.update(author=heir())
    mine = Attempt.objects.filter(user_id=user.pk)
    mine.update(prompt="", system="", error_message="")
    AttemptSample.objects.filter(attempt__in=mine).update(output="")


part = PrivacyPart(name="challenges", export=export, erase=erase)
