"""Admin: staff edit the built-in curriculum here; every save goes through the services (a new version
when what is graded changes), checked like an authored document. Attempts are read-only."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError

from challenges import documents, services
from challenges.models import Attempt, AttemptSample, Challenge, ChallengeVersion
from challenges.selectors import EXPORT_FIELDS

# Document field -> form (model) field.
_FORM_FIELD = {"models": "allowed_models"}


class ChallengeAdminForm(forms.ModelForm):
    class Meta:
        model = Challenge
        # The document's fields (the slug is fixed once made), then moderation.
        fields = [_FORM_FIELD.get(name, name) for name in EXPORT_FIELDS if name != "slug"] + ["visibility", "featured"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        fields = documents.ChallengeDocumentSerializer().fields
        data = {name: cleaned.get(_FORM_FIELD.get(name, name)) for name in fields if name != "slug"}
        document = documents.ChallengeDocumentSerializer(data={k: v for k, v in data.items() if v is not None})
        if not document.is_valid():
            for name, errors in document.errors.items():
                field = _FORM_FIELD.get(name, name)
                self.add_error(field if field in self.fields else None, str(errors))
        else:
            self.document = document.validated_data
        return cleaned


class _ReadOnlyInline(admin.TabularInline):
    """Rows written by the services only: shown, never added, edited or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ChallengeVersionInline(_ReadOnlyInline):
    model = ChallengeVersion
    fields = ["number", "samples", "pass_threshold", "par_tokens", "created_at"]


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    form = ChallengeAdminForm
    list_display = ["title", "slug", "track", "technique", "difficulty", "visibility", "featured", "builtin", "version"]
    list_filter = ["builtin", "visibility", "featured", "track", "technique", "difficulty"]
    search_fields = ["title", "slug", "summary", "author__username"]
    list_select_related = ["author"]
    readonly_fields = [
        "slug",
        "author",
        "builtin",
        "version",
        "public_cases",
        "hidden_cases",
        "created_at",
        "updated_at",
    ]
    inlines = [ChallengeVersionInline]

    def has_add_permission(self, request) -> bool:
        return False  # challenges come from the curriculum files, import and the authoring API

    def save_model(self, request, obj: Challenge, form: ChallengeAdminForm, change: bool) -> None:
        stored = Challenge.objects.get(pk=obj.pk)
        try:
            services.challenge_update(
                challenge=stored,
                actor=request.user,
                document=form.document,
                visibility=form.cleaned_data["visibility"],
            )
            if form.cleaned_data["featured"] != stored.featured:
                services.challenge_feature(challenge=stored, actor=request.user, featured=form.cleaned_data["featured"])
        except (ValidationError, PermissionDenied) as exc:
            self.message_user(request, f"Not saved: {getattr(exc, 'detail', exc)}", level=messages.ERROR)
        obj.refresh_from_db()


class AttemptSampleInline(_ReadOnlyInline):
    model = AttemptSample
    fields = ["case_id", "sample", "passed", "stopped_early", "run"]


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "challenge", "model", "status", "passed", "score", "cost_credits", "created_at"]
    list_filter = ["status", "passed", "model"]
    search_fields = ["id", "user__username", "challenge__slug"]
    list_select_related = ["user", "challenge"]
    date_hierarchy = "created_at"
    # Attempts are written by the attempt services only (credits are tied to them): read-only here.
    readonly_fields = [field.name for field in Attempt._meta.fields]
    inlines = [AttemptSampleInline]

    def has_add_permission(self, request) -> bool:
        return False
