"""`llm/models/`: the model registry as clients see it, with what is usable right now."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from llm.registry import ListedModel, models_list


class DefaultParamsSerializer(serializers.Serializer):
    temperature = serializers.FloatField()
    max_tokens = serializers.IntegerField()


class ModelSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="`provider:model`, the id runs ask for.")
    provider = serializers.CharField()
    name = serializers.CharField(help_text="Human-readable name.")
    provider_model = serializers.CharField(help_text="The provider's own model name.")
    description = serializers.CharField()
    available = serializers.BooleanField(help_text="Usable now: provider configured, local model installed.")
    context_limit = serializers.IntegerField(help_text="Tokens of prompt plus output.")
    max_output_tokens = serializers.IntegerField(help_text="The largest `max_tokens` a run may ask for.")
    default_params = DefaultParamsSerializer()
    credits_per_1k_tokens = serializers.FloatField(help_text="Credits per 1,000 output tokens (the headline price).")
    credits_per_1k_input = serializers.FloatField()
    credits_per_1k_output = serializers.FloatField()

    def to_representation(self, instance: ListedModel) -> dict:
        spec = instance.spec
        return {
            "id": spec.id,
            "provider": spec.provider,
            "name": spec.display_name,
            "provider_model": spec.name,
            "description": spec.description,
            "available": instance.available,
            "context_limit": spec.context_limit,
            "max_output_tokens": spec.max_output_tokens,
            "default_params": spec.default_params.model_dump(),
            "credits_per_1k_tokens": spec.credits_per_1k_output,
            "credits_per_1k_input": spec.credits_per_1k_input,
            "credits_per_1k_output": spec.credits_per_1k_output,
        }


class ModelListView(APIView):
    """Every model in the registry (not paginated: the list is short and fixed by configuration)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ModelSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ModelSerializer(models_list(), many=True).data)
