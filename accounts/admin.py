from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db import transaction

from accounts import services
from accounts.models import PersonalAPIKey, User


class PromptCraftUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")
        field_classes = {"email": forms.EmailField}

    def clean_username(self):
        username = super().clean_username()
        if "@" in username:
            raise forms.ValidationError("Usernames cannot contain @ (sign-in uses it to recognise emails).")
        return username


class PromptCraftUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class SessionsEndingPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password form, ending the user's sessions like every other password change."""

    def save(self, commit: bool = True):
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                services.user_sessions_end(user=user)  # its sockets close after commit, its tokens die
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = PromptCraftUserCreationForm
    change_password_form = SessionsEndingPasswordChangeForm
    form = PromptCraftUserChangeForm
    list_display = (
        "username",
        "email",
        "email_verified",
        "level",
        "experience_points",
        "credits",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_active", "email_verified", "is_staff", "is_superuser", "level", "deleted_at")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("-date_joined",)
    # Counters move only through the game's ledgers; editing them here would bypass the ledger.
    readonly_fields = ("credits", "level", "experience_points", "user_rank", "last_login", "date_joined", "deleted_at")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("email_verified", "timezone", "bio", "deleted_at")}),
        ("Progress", {"fields": ("credits", "level", "experience_points", "user_rank")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "usable_password", "password1", "password2")}),
    )

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                services.user_onboard(user=obj)  # same starting credits and progress as self-registration
                if not obj.email_verified:
                    services.email_verification_request(user=obj)  # the new user proves the address too
            elif "is_active" in form.changed_data and not obj.is_active:
                services.user_sessions_end(user=obj)  # a deactivated user's sockets close, its tokens die


@admin.register(PersonalAPIKey)
class PersonalAPIKeyAdmin(admin.ModelAdmin):
    """Keys by prefix (the key itself is nowhere to show); staff may revoke one, not create or edit."""

    list_display = ("prefix", "name", "user", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    fields = ("prefix", "name", "user", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        for key in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.api_key_revoke(user=key.user, key_id=key.pk)
