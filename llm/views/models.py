"""`llm/models/`: the model registry as clients see it, with what is usable right now."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from llm import selectors
from llm.registry import ListedModel, connections_all, models_list


class DefaultParamsSerializer(serializers.Serializer):
    temperature = serializers.FloatField()
    max_tokens = serializers.IntegerField()


class ModelStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["up", "down", "unknown"], help_text="The connection's last probe: up, down, or not probed yet."
    )
    latency_ms = serializers.IntegerField(allow_null=True, help_text="How long its models list took.")
    checked_at = serializers.DateTimeField(allow_null=True)


class ModelSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="`connection:model`, the id runs ask for.")
    provider = serializers.CharField(help_text="The connection's name (the id's prefix).")
    connection = serializers.CharField(help_text="The connection's name, as `provider`.")
    kind = serializers.CharField(help_text="`openai-compatible`, `anthropic` or `local`.")
    name = serializers.CharField(help_text="Human-readable name.")
    provider_model = serializers.CharField(help_text="The provider's own model name.")
    description = serializers.CharField()
    available = serializers.BooleanField(
        help_text="Usable now: connection configured and enabled, not down at its last probe, local model installed."
    )
    status = ModelStatusSerializer()
    own_keys = serializers.BooleanField(help_text="Learners may run it with their own key (llm/my-keys/).")
    context_limit = serializers.IntegerField(help_text="Tokens of prompt plus output.")
    max_output_tokens = serializers.IntegerField(help_text="The largest `max_tokens` a run may ask for.")
    default_params = DefaultParamsSerializer()
    credits_per_1k_tokens = serializers.FloatField(help_text="Credits per 1,000 output tokens (the headline price).")
    credits_per_1k_input = serializers.FloatField()
    credits_per_1k_output = serializers.FloatField()

    def to_representation(self, instance: ListedModel) -> dict:
        spec = instance.spec
        health = self.context.get("health", {}).get(spec.provider)
        connection = self.context.get("connections", {}).get(spec.provider)
        state = "unknown" if health is None else "up" if health.up else "down"
        return {
            "id": spec.id,
            "provider": spec.provider,
            "connection": spec.provider,
            "kind": spec.kind,
            "name": spec.display_name,
            "provider_model": spec.name,
            "description": spec.description,
            "available": instance.available and state != "down",
            "status": {
                "state": state,
                "latency_ms": health.latency_ms if health else None,
                "checked_at": health.checked_at if health else None,
            },
            "own_keys": bool(connection and connection.allow_user_keys),
            "context_limit": spec.context_limit,
            "max_output_tokens": spec.max_output_tokens,
            "default_params": spec.default_params.model_dump(),
            "credits_per_1k_tokens": spec.credits_per_1k_output,
            "credits_per_1k_input": spec.credits_per_1k_input,
            "credits_per_1k_output": spec.credits_per_1k_output,
        }


class ModelListView(APIView):
    """Every enabled model (not paginated: the list is short), with its connection's measured availability."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ModelSerializer(many=True))
    def get(self, request: Request) -> Response:
        context = {"health": selectors.connection_health_all(), "connections": connections_all()}
        return Response(ModelSerializer(models_list(), many=True, context=context).data)
