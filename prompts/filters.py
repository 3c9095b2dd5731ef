"""Query parameters of the template list; a bad value is a 400 naming the parameter."""

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.utils import extend_schema_field

from prompts import selectors
from prompts.models import Category, Difficulty, Favorite, PromptTemplate, Visibility
from prompts.serializers import MAX_TAGS, tag_validator

ORDERING_FIELDS = ("created_at", "updated_at", "rating_avg", "usage_count", "favorites_count")
MAX_SEARCH_LENGTH = 200


class TagListField(forms.Field):
    """Repeatable `?tag=a&tag=b`, each a well-formed tag slug."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[str]:
        if not value:
            return []
        values = [value] if isinstance(value, str) else list(value)
        return list(dict.fromkeys(item.strip().lower() for item in values if item.strip()))

    def validate(self, value: list[str]) -> None:
        if len(value) > MAX_TAGS:
            raise forms.ValidationError(f"At most {MAX_TAGS} tags.")
        for item in value:
            tag_validator(item)


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TagFilter(filters.Filter):
    field_class = TagListField

    def filter(self, qs: QuerySet, value: list[str]) -> QuerySet:
        # Every given tag must be present: one join per tag keeps rows unique.
        for tag in value or ():
            qs = qs.filter(tags__slug=tag)
        return qs


class StableOrderingFilter(filters.OrderingFilter):
    """Validated ordering with created_at/id tie-breakers so pages never overlap."""

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if value in EMPTY_VALUES:
            return qs
        fields = [self.get_ordering_value(param) for param in value if param not in EMPTY_VALUES]
        return qs.order_by(*fields, "-created_at", "-pk")


class TemplateFilter(filters.FilterSet):
    category = filters.ModelChoiceFilter(
        field_name="category", to_field_name="slug", queryset=Category.objects.all(), help_text="Category slug."
    )
    difficulty = filters.ChoiceFilter(choices=Difficulty.choices)
    tag = TagFilter(help_text="Tag slug; repeat to require several tags.")
    owner = filters.ChoiceFilter(choices=[("me", "me")], method="filter_owner", help_text="`me`: your own templates.")
    visibility = filters.ChoiceFilter(
        choices=Visibility.choices, help_text="Others' templates are listed only when public."
    )
    favorited = filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_favorited",
        help_text="`true`: only your favourites; `false`: none of them.",
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=MAX_SEARCH_LENGTH,
        help_text="Full-text search in title, description, content.",
    )
    ordering = StableOrderingFilter(
        fields=ORDERING_FIELDS, help_text="One or more of the fields, comma separated, `-` for descending."
    )

    class Meta:
        model = PromptTemplate
        fields = ["category", "difficulty", "tag", "owner", "visibility", "favorited", "search", "ordering"]

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(owner_id=self.request.user.pk) if value == "me" else queryset

    def filter_favorited(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        mine = Favorite.objects.filter(user_id=self.request.user.pk).values("template_id")
        return queryset.filter(pk__in=mine) if value == "true" else queryset.exclude(pk__in=mine)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        queryset = selectors.template_search(queryset, text=value)
        if selectors.uses_postgres_search() and value.strip():
            # Best matches first unless `ordering` (applied after this filter) says otherwise.
            return queryset.order_by("-search_rank", "-created_at", "-pk")
        return queryset
