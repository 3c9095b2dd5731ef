"""REST shapes of runs: the request of `POST llm/runs/` and the run as the history shows it."""

from rest_framework import serializers

from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS, LLMRun


class RunParamsSerializer(serializers.Serializer):
    temperature = serializers.FloatField(required=False, min_value=0.0, max_value=2.0)
    max_tokens = serializers.IntegerField(required=False, min_value=1)
    system = serializers.CharField(required=False, allow_blank=True, max_length=SYSTEM_MAX_CHARS)


class RunCreateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100)
    prompt = serializers.CharField(required=False, max_length=PROMPT_MAX_CHARS, trim_whitespace=False)
    template = serializers.CharField(required=False, max_length=64)
    variables = serializers.DictField(required=False, child=serializers.JSONField())
    params = RunParamsSerializer(required=False)

    def validate(self, attrs):
        if ("prompt" in attrs) == ("template" in attrs):
            raise serializers.ValidationError({"prompt": ["Give either prompt or template (with variables)."]})
        if "variables" in attrs and "template" not in attrs:
            raise serializers.ValidationError({"variables": ["Variables go with a template."]})
        return attrs


class RunSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField()
    template = serializers.SerializerMethodField()

    class Meta:
        model = LLMRun
        fields = [
            "id",
            "model",
            "status",
            "prompt",
            "system",
            "template",
            "template_version",
            "variables",
            "params",
            "output",
            "error",
            "input_tokens",
            "output_tokens",
            "cost_credits",
            "ttft_ms",
            "latency_ms",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_error(self, run: LLMRun) -> dict | None:
        return {"code": run.error_code, "message": run.error_message} if run.error_code else None

    def get_template(self, run: LLMRun) -> str | None:
        return str(run.template_id) if run.template_id else None
