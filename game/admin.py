from django.contrib import admin

from game.models import Activity, BadgeUnlock, ChallengeBest, CreditEntry, PlayerStats, XPEvent


class ReadOnlyLedgerAdmin(admin.ModelAdmin):
    """Ledgers are written by game.services only."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(XPEvent)
class XPEventAdmin(ReadOnlyLedgerAdmin):
    list_display = ["user", "amount", "total_after", "reason", "source", "created_at"]
    list_filter = ["reason"]
    search_fields = ["user__username", "idempotency_key"]


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyLedgerAdmin):
    list_display = ["user", "delta", "balance_after", "reason", "source", "created_at"]
    list_filter = ["reason"]
    search_fields = ["user__username", "idempotency_key"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyLedgerAdmin):
    list_display = ["user", "activity", "local_date", "created_at"]
    list_filter = ["activity"]


@admin.register(BadgeUnlock)
class BadgeUnlockAdmin(ReadOnlyLedgerAdmin):
    list_display = ["user", "badge", "unlocked_at"]
    list_filter = ["badge"]


@admin.register(PlayerStats)
class PlayerStatsAdmin(ReadOnlyLedgerAdmin):
    list_display = ["user", "runs_completed", "templates_created", "streak_days", "streak_best"]


@admin.register(ChallengeBest)
class ChallengeBestAdmin(ReadOnlyLedgerAdmin):
    list_display = ["user", "challenge", "score", "prompt_tokens", "achieved_at"]
    search_fields = ["user__username", "challenge"]
