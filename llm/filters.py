"""Query parameters of the run history; a bad value is a 400 naming the parameter.

`created_after` / `created_before` take an ISO 8601 datetime (with an offset; without one it is
UTC) or a date, which means that day in the user's own time zone: `created_after` from its
start, `created_before` up to its end (the day included).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from llm.models import LLMRun, RunStatus

MAX_SEARCH_LENGTH = 200


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class DateOrDateTimeField(forms.Field):
    """A date or an ISO datetime, cleaned to either (the filter resolves a date in the user's zone)."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date (2026-12-01) or date and time (2026-12-01T09:30Z)."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            # A bare date first: parse_datetime reads "2026-12-01" as that day's midnight, zone unknown.
            day = parse_date(text) if len(text) == 10 else None
            moment = None if day else parse_datetime(text.replace(" ", "+"))  # "+01:00" arrives as " 01:00"
        except ValueError:
            moment = day = None
        if moment is None and day is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if day is not None:
            # A day off either end of the calendar has no start or end to compare with.
            if not date.min < day < date.max:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            return day
        try:
            # In UTC: the database takes no offset beyond ±15:59, and every moment has a UTC form.
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class DateOrDateTimeFilter(filters.Filter):
    field_class = DateOrDateTimeField

    def __init__(self, *args, day_end: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.day_end = day_end

    def filter(self, qs: QuerySet, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": self.moment(value)})

    def moment(self, value: date | datetime) -> datetime:
        if isinstance(value, datetime):
            return value
        request = self.parent.request if self.parent is not None else None
        zone = _zone(getattr(getattr(request, "user", None), "timezone", "UTC"))
        day = value + timedelta(days=1) if self.day_end else value
        return datetime.combine(day, time.min, tzinfo=zone)


class RunFilter(filters.FilterSet):
    model = filters.CharFilter(field_name="model", max_length=100, help_text="Model id, e.g. `local:echo`.")
    status = filters.ChoiceFilter(choices=RunStatus.choices)
    template = filters.UUIDFilter(field_name="template_id", help_text="Runs of this template (its id).")
    created_after = DateOrDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="From this ISO datetime, or this date (your time zone)."
    )
    created_before = DateOrDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        day_end=True,
        help_text="Before this ISO datetime, or up to the end of this date (your time zone).",
    )
    search = filters.CharFilter(
        field_name="prompt", lookup_expr="icontains", max_length=MAX_SEARCH_LENGTH, help_text="Text in the prompt."
    )

    class Meta:
        model = LLMRun
        fields = ["model", "status", "template", "created_after", "created_before", "search"]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if valid:
            after, before = self.form.cleaned_data.get("created_after"), self.form.cleaned_data.get("created_before")
            if after is not None and before is not None:
                start = self.filters["created_after"].moment(after)
                if start >= self.filters["created_before"].moment(before):
                    self.form.add_error("created_before", "Must be later than created_after.")
                    return False
        return valid
