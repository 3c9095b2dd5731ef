from django import forms
from django.contrib import admin, messages

from llm import connection_services, registry
from llm.models import Connection, ConnectionHealth, ConnectionModel, LLMRun, ProviderKey
from llm.providers.base import ProviderError


@admin.register(LLMRun)
class LLMRunAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "model", "status", "error_code", "output_tokens", "cost_credits", "created_at"]
    list_filter = ["status", "model", "error_code"]
    search_fields = ["id", "user__username", "prompt"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    # Runs are written by the run services only (credits are tied to them): read-only here.
    readonly_fields = [field.name for field in LLMRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class ConnectionForm(forms.ModelForm):
    """The key is write-only: typed in, stored encrypted, never rendered back (the page says set / not set)."""

    base_url = forms.URLField(required=False, max_length=300, assume_scheme="https")
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the stored key.",
    )
    clear_api_key = forms.BooleanField(required=False, help_text="Remove the stored key.")

    class Meta:
        model = Connection
        fields = [
            "name",
            "kind",
            "base_url",
            "connect_timeout_seconds",
            "read_timeout_seconds",
            "enabled",
            "allow_user_keys",
        ]


class ConnectionModelInline(admin.TabularInline):
    model = ConnectionModel
    extra = 0
    fields = [
        "name",
        "display_name",
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
    readonly_fields = ["discovered_at"]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["name", "kind", "base_url", "api_key_state", "enabled", "allow_user_keys", "health"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["api_key_state", "health"]
    inlines = [ConnectionModelInline]
    actions = ["discover_models"]

    @admin.display(description="API key")
    def api_key_state(self, connection: Connection) -> str:
        return "set" if connection.has_api_key else "not set"

    @admin.display(description="Health")
    def health(self, connection: Connection) -> str:
        health = ConnectionHealth.objects.filter(connection_name=connection.name).first()
        if health is None:
            return "not probed yet"
        if health.up:
            return f"up ({health.latency_ms} ms, {health.checked_at:%Y-%m-%d %H:%M:%S})"
        return f"down: {health.last_error} ({health.checked_at:%Y-%m-%d %H:%M:%S})"

    def save_model(self, request, obj: Connection, form: ConnectionForm, change: bool) -> None:
        # Through the services: the key encrypted, every process's registry reloaded after commit.
        api_key = "" if form.cleaned_data.get("clear_api_key") else (form.cleaned_data.get("api_key") or None)
        fields = {name: form.cleaned_data[name] for name in connection_services.CONNECTION_FIELDS}
        if change:
            connection_services.connection_update(connection=obj, api_key=api_key, **fields)
        else:
            created = connection_services.connection_create(name=obj.name, api_key=api_key or "", **fields)
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        registry.registry_changed()  # inline model edits

    def delete_model(self, request, obj: Connection) -> None:
        connection_services.connection_delete(connection=obj)

    def delete_queryset(self, request, queryset) -> None:
        for connection in queryset:
            connection_services.connection_delete(connection=connection)

    @admin.action(description="Discover models (added disabled, until priced)")
    def discover_models(self, request, queryset) -> None:
        for connection in queryset:
            try:
                found = connection_services.connection_discover(connection=connection)
            except ProviderError as exc:
                self.message_user(request, f"{connection.name}: {exc.message}", messages.ERROR)
                continue
            added = ", ".join(found.added) or "none"
            self.message_user(request, f"{connection.name}: new models {added} (disabled until priced).")


@admin.register(ProviderKey)
class ProviderKeyAdmin(admin.ModelAdmin):
    """Learners' own keys: who holds one for which connection; the key itself is never shown."""

    list_display = ["id", "user", "connection", "created_at"]
    list_select_related = ["user", "connection"]
    fields = ["user", "connection", "created_at"]
    readonly_fields = ["user", "connection", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ConnectionHealth)
class ConnectionHealthAdmin(admin.ModelAdmin):
    list_display = ["connection_name", "up", "latency_ms", "last_error", "checked_at"]
    readonly_fields = ["connection_name", "up", "latency_ms", "last_error", "checked_at"]

    def has_add_permission(self, request) -> bool:
        return False
