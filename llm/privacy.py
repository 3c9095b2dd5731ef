"""llm's part of a learner's export and erasure: their run history and their own provider keys."""

from typing import Any

from accounts.privacy import PrivacyPart
from llm.models import LLMRun, ProviderKey
from llm.serializers import RunSerializer


def export(*, user) -> dict[str, Any]:
    # Sealed runs (a hidden challenge case's) were never the learner's to see: left out.
    runs = LLMRun.objects.filter(user_id=user.pk, sealed=False).order_by("created_at", "pk")
    keys = ProviderKey.objects.filter(user_id=user.pk).select_related("connection").order_by("created_at")
    return {
        "runs": RunSerializer(runs, many=True).data,
        # Which connections have the learner's own key, never the key.
        "provider_keys": [
            {"connection": key.connection.name, "created_at": key.created_at.isoformat()} for key in keys
        ],
    }


def erase(*, user, heir) -> None:
    """Runs keep their numbers (tokens, cost, timings: the ledgers and insights rollups count them) but lose
    their words; the learner's own provider keys go."""
    LLMRun.objects.filter(user_id=user.pk).update(prompt="", system="", output="", variables={}, error_message="")
    ProviderKey.objects.filter(user_id=user.pk).delete()


part = PrivacyPart(name="llm", export=export, erase=erase)
