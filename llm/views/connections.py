"""Staff REST for connections (`llm/connections/`) and learners' own keys (`llm/my-keys/`).

A key goes in (`api_key`, write-only) and never comes out: answers say only `has_api_key`.
"""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from llm import connection_services, selectors
from llm.models import Connection, ConnectionHealth, ConnectionModel, ProviderKey
from llm.providers.base import ProviderError


class HealthSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConnectionHealth
        fields = ["up", "latency_ms", "last_error", "checked_at"]
        read_only_fields = fields


class ConnectionSerializer(serializers.ModelSerializer):
    api_key = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        max_length=500,
        style={"input_type": "password"},
        help_text="Write-only; empty removes the key. Never returned.",
    )
    has_api_key = serializers.BooleanField(read_only=True)
    health = serializers.SerializerMethodField()
    models_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Connection
        fields = [
            "name",
            "kind",
            "base_url",
            "api_key",
            "has_api_key",
            "connect_timeout_seconds",
            "read_timeout_seconds",
            "enabled",
            "allow_user_keys",
            "health",
            "models_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field(HealthSerializer(allow_null=True))
    def get_health(self, connection: Connection) -> dict | None:
        # Read once per answer (a list shares its root's context), and only when one is written.
        if "health" not in self.context:
            self.context["health"] = selectors.connection_health_all()
        health = self.context["health"].get(connection.name)
        return HealthSerializer(health).data if health else None

    def create(self, validated_data: dict) -> Connection:
        return connection_services.connection_create(**validated_data)

    def update(self, instance: Connection, validated_data: dict) -> Connection:
        validated_data.pop("name", None)
        api_key = validated_data.pop("api_key", None)
        try:
            return connection_services.connection_update(connection=instance, api_key=api_key, **validated_data)
        except connection_services.ConnectionRefused as exc:
            raise serializers.ValidationError(exc.errors) from None


class ConnectionModelSerializer(serializers.ModelSerializer):
    id = serializers.SerializerMethodField()

    class Meta:
        model = ConnectionModel
        fields = [
            "id",
            "name",
            "display_name",
            "description",
            "context_limit",
            "max_output_tokens",
            "default_temperature",
            "default_max_tokens",
            "credits_per_1k_input",
            "credits_per_1k_output",
            "enabled",
            "position",
            "discovered_at",
        ]
        read_only_fields = ["name", "discovered_at"]

    @extend_schema_field(serializers.CharField(help_text="`connection:model`, the id runs ask for."))
    def get_id(self, model: ConnectionModel) -> str:
        return f"{model.connection.name}:{model.name}"

    def update(self, instance: ConnectionModel, validated_data: dict) -> ConnectionModel:
        try:
            return connection_services.model_update(model=instance, **validated_data)
        except connection_services.ConnectionRefused as exc:
            raise serializers.ValidationError(exc.errors) from None


def _connections():
    return Connection.objects.annotate(models_count=Count("models")).order_by("name")


class ConnectionListCreateView(generics.ListCreateAPIView):
    """Staff: every connection stored in the database; create one."""

    permission_classes = [IsAdminUser]
    serializer_class = ConnectionSerializer

    def get_queryset(self):
        return _connections()


class ConnectionDetailView(generics.RetrieveUpdateDestroyAPIView):
    """Staff: one connection by name; PATCH changes it (`api_key` replaces the stored key); DELETE removes it."""

    permission_classes = [IsAdminUser]
    serializer_class = ConnectionSerializer
    lookup_field = "name"

    def get_queryset(self):
        return _connections()

    def perform_destroy(self, instance: Connection) -> None:
        connection_services.connection_delete(connection=instance)


class ConnectionModelListView(generics.ListAPIView):
    """Staff: a connection's models, enabled or not."""

    permission_classes = [IsAdminUser]
    serializer_class = ConnectionModelSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return ConnectionModel.objects.none()
        connection = get_object_or_404(Connection, name=self.kwargs["name"])
        return ConnectionModel.objects.filter(connection=connection).select_related("connection")


class ConnectionModelDetailView(generics.RetrieveUpdateAPIView):
    """Staff: price, limit, enable or disable one model of a connection."""

    permission_classes = [IsAdminUser]
    serializer_class = ConnectionModelSerializer

    def get_object(self) -> ConnectionModel:
        return get_object_or_404(
            ConnectionModel.objects.select_related("connection"),
            connection__name=self.kwargs["name"],
            name=self.kwargs["model_name"],
        )


class ConnectionDiscoverView(APIView):
    """Staff: read the server's models list and add the new models, disabled until priced."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("Discovery", {"added": serializers.ListField(), "known": serializers.ListField()}),
            502: OpenApiResponse(description="The server did not answer its models list."),
        },
    )
    def post(self, request: Request, name: str) -> Response:
        connection = get_object_or_404(Connection, name=name)
        try:
            found = connection_services.connection_discover(connection=connection)
        except ProviderError as exc:
            return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_502_BAD_GATEWAY)
        return Response({"added": found.added, "known": found.known})


# --- learners' own keys --------------------------------------------------------------------------


class ProviderKeySerializer(serializers.ModelSerializer):
    connection = serializers.CharField(max_length=40, help_text="The name of a connection that takes own keys.")
    api_key = serializers.CharField(
        write_only=True, max_length=500, style={"input_type": "password"}, help_text="Write-only; never returned."
    )

    class Meta:
        model = ProviderKey
        fields = ["id", "connection", "api_key", "created_at"]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, instance: ProviderKey) -> dict:
        return {"id": str(instance.pk), "connection": instance.connection.name, "created_at": instance.created_at}

    def create(self, validated_data: dict) -> ProviderKey:
        try:
            return connection_services.provider_key_set(
                user=self.context["request"].user,
                connection_name=validated_data["connection"],
                api_key=validated_data["api_key"],
            )
        except connection_services.ConnectionRefused as exc:
            raise serializers.ValidationError(exc.errors) from None


class ProviderKeyListCreateView(generics.ListCreateAPIView):
    """Your own keys for connections that allow them (runs with one cost no credits); POST stores or replaces one."""

    permission_classes = [IsAuthenticated]
    serializer_class = ProviderKeySerializer

    def get_queryset(self):
        return selectors.provider_keys_for(user=self.request.user)


class ProviderKeyDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="Not your key.")})
    def delete(self, request: Request, key_id) -> Response:
        if not connection_services.provider_key_delete(user=request.user, key_id=key_id):
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)
