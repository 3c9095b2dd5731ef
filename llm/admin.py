from django.contrib import admin

from llm.models import LLMRun


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
