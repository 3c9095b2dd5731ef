"""REST shapes of challenges, attempts and leaderboards; rules live in the services.

Hidden cases appear only as `{id, hidden, passed}`: never their input, output or checks.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from challenges import documents, selectors
from challenges.models import Attempt, Challenge, Visibility
from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS


class AuthorSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)


class ChallengeListSerializer(serializers.ModelSerializer):
    """Needs `figures` (selectors.challenge_figures of the challenges shown) in its context."""

    author = AuthorSerializer(read_only=True, allow_null=True)
    solved = serializers.SerializerMethodField()
    best_score = serializers.SerializerMethodField()
    solvers_count = serializers.SerializerMethodField()

    class Meta:
        model = Challenge
        fields = [
            "slug",
            "title",
            "summary",
            "track",
            "technique",
            "difficulty",
            "par_tokens",
            "public_cases",
            "hidden_cases",
            "solved",
            "best_score",
            "solvers_count",
            "featured",
            "builtin",
            "visibility",
            "version",
            "author",
        ]
        read_only_fields = fields

    @property
    def _figures(self) -> selectors.ListFigures:
        return self.context["figures"]

    def get_solved(self, challenge: Challenge) -> bool:
        return challenge.slug in self._figures.bests

    def get_best_score(self, challenge: Challenge) -> int | None:
        return self._figures.best_score(challenge.slug)

    def get_solvers_count(self, challenge: Challenge) -> int:
        return self._figures.solvers.get(challenge.slug, 0)


class PublicCaseSerializer(serializers.Serializer):
    id = serializers.CharField()
    input = serializers.DictField(child=serializers.CharField())
    checks = serializers.ListField(child=serializers.DictField())


class ChallengeDetailSerializer(ChallengeListSerializer):
    variables = serializers.ListField(child=serializers.CharField(), read_only=True)
    cases = serializers.SerializerMethodField()
    models = serializers.ListField(source="allowed_models", child=serializers.CharField(), read_only=True)
    system = serializers.SerializerMethodField()

    class Meta(ChallengeListSerializer.Meta):
        fields = [
            *ChallengeListSerializer.Meta.fields,
            "brief",
            "variables",
            "cases",
            "models",
            "default_model",
            "samples",
            "pass_threshold",
            "params",
            "hints",
            "system",
            "system_hidden",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PublicCaseSerializer(many=True))
    def get_cases(self, challenge: Challenge) -> list[dict[str, Any]]:
        return selectors.public_cases(challenge.cases)

    def get_system(self, challenge: Challenge) -> str:
        return "" if challenge.system_hidden else challenge.system


class ChallengePatchSerializer(serializers.Serializer):
    """PATCH: any document field (merged over the current document and checked whole), and visibility."""

    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)


class ChallengeDocumentOutSerializer(documents.ChallengeDocumentSerializer):
    version = serializers.IntegerField(read_only=True)


class FeatureInputSerializer(serializers.Serializer):
    featured = serializers.BooleanField(default=True)


class AttemptParamsSerializer(serializers.Serializer):
    temperature = serializers.FloatField(required=False, min_value=0.0, max_value=2.0)
    max_tokens = serializers.IntegerField(required=False, min_value=1)


class AttemptCreateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100, required=False)
    prompt = serializers.CharField(max_length=PROMPT_MAX_CHARS, trim_whitespace=False)
    system = serializers.CharField(max_length=SYSTEM_MAX_CHARS, required=False, allow_blank=True, trim_whitespace=False)
    params = AttemptParamsSerializer(required=False)


class SampleOutSerializer(serializers.Serializer):
    sample = serializers.IntegerField()
    passed = serializers.BooleanField(allow_null=True)
    stopped_early = serializers.BooleanField()
    output = serializers.CharField(required=False, help_text="Public cases only.")
    checks = serializers.ListField(child=serializers.DictField(), required=False, help_text="Public cases only.")


class CaseOutSerializer(serializers.Serializer):
    id = serializers.CharField()
    hidden = serializers.BooleanField()
    passed = serializers.BooleanField(allow_null=True)
    samples = SampleOutSerializer(many=True)


class AttemptSerializer(serializers.ModelSerializer):
    challenge = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    cases = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Attempt
        fields = [
            "id",
            "challenge",
            "version",
            "model",
            "prompt",
            "system",
            "params",
            "prompt_tokens",
            "status",
            "passed",
            "pass_rate",
            "score",
            "score_breakdown",
            "cases",
            "cost_credits",
            "xp_awarded",
            "best",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CaseOutSerializer(many=True))
    def get_cases(self, attempt: Attempt) -> list[dict[str, Any]]:
        by_case: dict[str, list] = {}
        for row in attempt.samples.all():
            by_case.setdefault(row.case_id, []).append(row)
        cases = []
        for case in attempt.version.cases:
            rows = sorted(by_case.get(case["id"], []), key=lambda row: row.sample)
            samples = []
            for row in rows:
                sample: dict[str, Any] = {
                    "sample": row.sample,
                    "passed": row.passed,
                    "stopped_early": row.stopped_early,
                }
                if not case["hidden"]:
                    sample["output"], sample["checks"] = row.output, row.checks
                samples.append(sample)
            graded = [row.passed for row in rows]
            passed = None if not graded or None in graded else all(graded)
            cases.append({"id": case["id"], "hidden": case["hidden"], "passed": passed, "samples": samples})
        return cases

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_error(self, attempt: Attempt) -> dict[str, str] | None:
        return {"code": attempt.error_code, "message": attempt.error_message} if attempt.error_code else None


class ChallengeLeaderboardUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True, help_text="The user's avatar picture; null: none.")


class ChallengeLeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = ChallengeLeaderboardUserSerializer()
    score = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    attempts = serializers.IntegerField()
    achieved_at = serializers.DateTimeField()
