"""Reads of templates, versions and categories, with the visibility rules applied in one place."""

import uuid
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from prompts import variables
from prompts.models import Category, Favorite, PromptTemplate, Rating, Tag, TemplateVersion, Visibility

EXPORT_FORMAT = "promptcraft.template"
EXPORT_FORMAT_VERSION = 1
# The text search configuration; migration 0002 indexes exactly the vector template_search builds.
SEARCH_CONFIG = "english"


def _is_user(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def template_visible_q(user) -> Q:
    """Templates `user` may open by id: public or unlisted ones, and their own."""
    q = Q(visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
    return q | Q(owner_id=user.pk) if _is_user(user) else q


def template_listed_q(user) -> Q:
    """Templates that appear in `user`'s lists: public ones and their own (unlisted ones never for others)."""
    q = Q(visibility=Visibility.PUBLIC)
    return q | Q(owner_id=user.pk) if _is_user(user) else q


def _parse_id(template_id: Any) -> uuid.UUID:
    if isinstance(template_id, uuid.UUID):
        return template_id
    try:
        return uuid.UUID(str(template_id))
    except (ValueError, TypeError, AttributeError):
        raise Http404("No template matches the given id.") from None


def template_get_visible(*, template_id: Any, user) -> PromptTemplate:
    """The template if `user` may see it; Http404 otherwise (also for ids that are not UUIDs)."""
    template = (
        PromptTemplate.objects.filter(template_visible_q(user), pk=_parse_id(template_id))
        .select_related("owner", "category")
        .first()
    )
    if template is None:
        raise Http404("No template matches the given id.")
    return template


def template_annotate_for(queryset: QuerySet[PromptTemplate], *, user) -> QuerySet[PromptTemplate]:
    """Rows ready to serialise in a fixed number of queries: owner, category, tags and the caller's marks."""
    queryset = queryset.select_related("owner", "category").prefetch_related("tags")
    if not _is_user(user):
        return queryset
    return queryset.annotate(
        is_favorited=Exists(Favorite.objects.filter(template=OuterRef("pk"), user_id=user.pk)),
        my_rating=Subquery(Rating.objects.filter(template=OuterRef("pk"), user_id=user.pk).values("score")[:1]),
    )


def template_list(*, user) -> QuerySet[PromptTemplate]:
    """Every template listed for `user`, newest first; filters narrow it further."""
    return template_annotate_for(PromptTemplate.objects.filter(template_listed_q(user)), user=user).order_by(
        "-created_at", "-pk"
    )


def template_detail(*, template_id: Any, user) -> PromptTemplate:
    template = (
        template_annotate_for(PromptTemplate.objects.filter(template_visible_q(user)), user=user)
        .filter(pk=_parse_id(template_id))
        .first()
    )
    if template is None:
        raise Http404("No template matches the given id.")
    return template


def uses_postgres_search() -> bool:
    return connection.vendor == "postgresql"


def template_search(queryset: QuerySet[PromptTemplate], *, text: str) -> QuerySet[PromptTemplate]:
    """Full-text match over title, description and content, ranked (PostgreSQL); substring match elsewhere."""
    text = text.strip()
    if not text:
        return queryset
    if not uses_postgres_search():
        return queryset.filter(Q(title__icontains=text) | Q(description__icontains=text) | Q(content__icontains=text))
    config = SEARCH_CONFIG
    vector = (
        SearchVector("title", weight="A", config=config)
        + SearchVector("description", weight="B", config=config)
        + SearchVector("content", weight="C", config=config)
    )
    query = SearchQuery(text, search_type="websearch", config=config)
    return (
        queryset.alias(search_vector=vector).filter(search_vector=query).annotate(search_rank=SearchRank(vector, query))
    )


def template_versions(*, template: PromptTemplate) -> QuerySet[TemplateVersion]:
    return TemplateVersion.objects.filter(template=template).select_related("author").order_by("number")


def template_version_get(*, template: PromptTemplate, number: int) -> TemplateVersion:
    version = template_versions(template=template).filter(number=number).first()
    if version is None:
        raise Http404(f"Version {number} does not exist.")
    return version


def template_render(*, template: PromptTemplate, values: dict[str, Any], version: int | None = None) -> str:
    """The prompt with `values` filled in, from the current or a saved version of a template the caller may see.

    Raises Http404 for a version that does not exist, or variables.RenderError naming the variables at fault.
    """
    if version is None or version == template.version:
        content, specs = template.content, template.variable_specs
    else:
        stored = template_version_get(template=template, number=version)
        content, specs = stored.content, stored.variable_specs
    return variables.render(content, values, specs)


def template_export(*, template: PromptTemplate) -> dict[str, Any]:
    """A self-contained document: the template, its variable specs and its whole version history."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "template": {
            "title": template.title,
            "description": template.description,
            "content": template.content,
            "variable_specs": template.variable_specs,
            "category": template.category.slug if template.category_id else None,
            "tags": sorted(tag.slug for tag in template.tags.all()),
            "difficulty": template.difficulty,
            "version": template.version,
        },
        "versions": [
            {
                "number": version.number,
                "title": version.title,
                "content": version.content,
                "variable_specs": version.variable_specs,
                "created_at": version.created_at.isoformat(),
            }
            for version in template_versions(template=template)
        ],
    }


def category_list() -> QuerySet[Category]:
    """Categories in display order, each with its number of public templates."""
    return Category.objects.annotate(
        templates_count=Count("templates", filter=Q(templates__visibility=Visibility.PUBLIC))
    ).order_by("ordering", "name")


def tag_list(*, prefix: str = "") -> QuerySet[Tag]:
    """Tags used by public templates, most used first; `prefix` narrows them for autocompletion."""
    tags = Tag.objects.annotate(
        templates_count=Count("templates", filter=Q(templates__visibility=Visibility.PUBLIC))
    ).filter(templates_count__gt=0)
    if prefix:
        tags = tags.filter(slug__startswith=prefix)
    return tags.order_by("-templates_count", "slug")
