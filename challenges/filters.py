"""Query parameters of the challenge list; a bad value is a 400 naming the parameter."""

import django_filters as filters
from django.db.models import Q, QuerySet

from challenges import selectors
from challenges.models import Challenge, Technique
from prompts.models import Difficulty

MAX_SEARCH_LENGTH = 200


class ChallengeFilter(filters.FilterSet):
    track = filters.CharFilter(field_name="track", max_length=50, help_text="Track slug.")
    technique = filters.ChoiceFilter(choices=Technique.choices)
    difficulty = filters.ChoiceFilter(choices=Difficulty.choices)
    solved = filters.BooleanFilter(
        method="filter_solved", help_text="`true`: challenges you passed; `false`: the rest."
    )
    search = filters.CharFilter(
        method="filter_search", max_length=MAX_SEARCH_LENGTH, help_text="Words in the title or summary."
    )

    class Meta:
        model = Challenge
        fields = ["track", "technique", "difficulty", "solved", "search"]

    def filter_solved(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        solved = selectors.solved_slugs(user=self.request.user)
        return queryset.filter(slug__in=solved) if value else queryset.exclude(slug__in=solved)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split()[:10]:
            queryset = queryset.filter(Q(title__icontains=word) | Q(summary__icontains=word))
        return queryset
