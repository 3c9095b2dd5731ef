"""prompts' part of a learner's export and erasure: their templates (with versions), ratings, favourites."""

from typing import Any

from accounts.privacy import PrivacyPart
from prompts.models import Favorite, PromptTemplate, Rating, TemplateVersion, Visibility
from prompts.serializers import TemplateSerializer, VersionSerializer


def export(*, user) -> dict[str, Any]:
    templates = (
        PromptTemplate.objects.filter(owner_id=user.pk)
        .select_related("owner", "category")
        .prefetch_related("tags", "versions__author")
        .order_by("created_at", "pk")
    )
    ratings = Rating.objects.filter(user_id=user.pk).select_related("template").order_by("created_at", "pk")
    favorites = Favorite.objects.filter(user_id=user.pk).select_related("template").order_by("created_at", "pk")
    return {
        "templates": [
            {**TemplateSerializer(t).data, "versions": VersionSerializer(t.versions.all(), many=True).data}
            for t in templates
        ],
        "ratings": [
            {
                "template": str(r.template_id),
                "title": r.template.title,
                "score": r.score,
                "at": r.updated_at.isoformat(),
            }
            for r in ratings
        ],
        "favorites": [
            {"template": str(f.template_id), "title": f.template.title, "at": f.created_at.isoformat()}
            for f in favorites
        ],
    }


def erase(*, user, heir) -> None:
    """Private and unlisted templates go (versions, ratings and favourites with them); public ones stay, the heir's.

    The learner's own ratings and favourites of others' templates stay with the anonymised row, so
    those templates' averages and counts stay true.
    """
    owned = PromptTemplate.objects.filter(owner_id=user.pk)
    owned.exclude(visibility=Visibility.PUBLIC).delete()
    public_ids = list(owned.values_list("pk", flat=True))
    if public_ids:
        TemplateVersion.objects.filter(template_id__in=public_ids, author_id=user.pk).update(author=heir())
        PromptTemplate.objects.filter(pk__in=public_ids).update(owner=heir())


part = PrivacyPart(name="prompts", export=export, erase=erase)
