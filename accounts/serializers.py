"""Request and response shapes of the auth/ endpoints."""

import zoneinfo
from functools import lru_cache

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts import selectors, services
from accounts.privacy import DELETED_PREFIX

User = get_user_model()

PASSWORD_MAX_LENGTH = 128  # bounds the hashing work one request can ask for


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=PASSWORD_MAX_LENGTH,
        style={"input_type": "password"},
        **kwargs,
    )


def validate_new_password(password: str, *, user, field: str) -> None:
    """Django's password validators, reported under `field`."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: list(exc.messages)}) from None


class UserSerializer(serializers.ModelSerializer):
    """The caller's profile. Progress counters are maintained by the game and read-only here."""

    avatar_url = serializers.CharField(
        read_only=True, allow_null=True, help_text="The avatar picture (set with PUT auth/me/avatar/); null: none."
    )

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "email",
            "email_verified",
            "first_name",
            "last_name",
            "credits",
            "level",
            "experience_points",
            "user_rank",
            "timezone",
            "bio",
            "avatar_url",
            "date_joined",
        )
        read_only_fields = (
            "id",
            "username",
            "email_verified",
            "credits",
            "level",
            "experience_points",
            "user_rank",
            "date_joined",
        )
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}

    def validate_email(self, value: str) -> str:
        exclude_id = self.instance.pk if self.instance is not None else None
        if selectors.email_taken(email=value, exclude_id=exclude_id):
            raise serializers.ValidationError("A user with that email already exists.")
        return value

    def validate_timezone(self, value: str) -> str:
        if value not in _time_zones():
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as Europe/Paris.")
        return value


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    password = password_field()
    password_confirm = password_field()

    def validate_username(self, value: str) -> str:
        if "@" in value:
            raise serializers.ValidationError("Usernames cannot contain @ (sign-in uses it to recognise emails).")
        if value.lower().startswith(DELETED_PREFIX):
            raise serializers.ValidationError(
                f"Usernames cannot start with {DELETED_PREFIX} (deleted accounts use it)."
            )
        if selectors.username_taken(username=value):
            raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate_email(self, value: str) -> str:
        if selectors.email_taken(email=value):
            raise serializers.ValidationError("A user with that email already exists.")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["password"] != attrs["password_confirm"]:
            raise serializers.ValidationError({"password_confirm": ["The two passwords do not match."]})
        candidate = User(
            username=attrs["username"],
            email=attrs["email"],
            first_name=attrs["first_name"],
            last_name=attrs["last_name"],
        )
        validate_new_password(attrs["password"], user=candidate, field="password")
        return attrs


class AvatarUploadSerializer(serializers.Serializer):
    avatar = serializers.FileField(
        help_text="A PNG, JPEG, WebP or GIF (first frame); its type is read from its bytes. Stored as a square WebP."
    )


class AvatarSerializer(serializers.Serializer):
    avatar_url = serializers.CharField()


class LoginSerializer(serializers.Serializer):
    username_or_email = serializers.CharField(max_length=254)
    password = password_field()


class AuthResponseSerializer(serializers.Serializer):
    user = UserSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = password_field()
    new_password = password_field()
    new_password_confirm = password_field()

    def validate_old_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("The current password is not correct.")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["new_password"] != attrs["new_password_confirm"]:
            raise serializers.ValidationError({"new_password_confirm": ["The two passwords do not match."]})
        validate_new_password(attrs["new_password"], user=self.context["request"].user, field="new_password")
        return attrs


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = password_field()
    new_password_confirm = password_field()

    def validate(self, attrs: dict) -> dict:
        try:
            user = services.password_reset_user(uid=attrs["uid"], token=attrs["token"])
        except services.InvalidResetLink:
            raise serializers.ValidationError({"token": ["This reset link is invalid or has expired."]}) from None
        if attrs["new_password"] != attrs["new_password_confirm"]:
            raise serializers.ValidationError({"new_password_confirm": ["The two passwords do not match."]})
        validate_new_password(attrs["new_password"], user=user, field="new_password")
        return attrs


class EmailVerifySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)


class EmailVerifiedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    email_verified = serializers.BooleanField()


class DetailSerializer(serializers.Serializer):
    """An error or status message."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class APIKeySerializer(serializers.Serializer):
    """A personal API key as listed: its prefix, never the key."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=100)
    prefix = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()


class APIKeyCreatedSerializer(APIKeySerializer):
    """The answer to a creation: the only time the key itself is shown."""

    key = serializers.CharField(read_only=True, help_text="The key itself; shown once, store it now.")


class SocialCredentialSerializer(serializers.Serializer):
    """What a REST client got from the provider: an authorization code (with its redirect URI and PKCE
    verifier) or an ID token."""

    code = serializers.CharField(required=False, max_length=2048)
    redirect_uri = serializers.URLField(required=False, max_length=2048)
    code_verifier = serializers.CharField(required=False, min_length=43, max_length=128)
    id_token = serializers.CharField(required=False, max_length=16384)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("code")) == bool(attrs.get("id_token")):
            raise serializers.ValidationError({"code": ["Send either an authorization code or an id_token."]})
        if attrs.get("code") and not attrs.get("redirect_uri"):
            raise serializers.ValidationError({"redirect_uri": ["The redirect_uri the code was issued for."]})
        return attrs


class AccountDeleteSerializer(serializers.Serializer):
    password = password_field(required=False, allow_blank=True)
    confirmation = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1024,
        help_text="For an account without a password: from a fresh sign-in with a linked provider.",
    )


class DeleteConfirmationSerializer(serializers.Serializer):
    confirmation = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the confirmation works for.")


class SocialProviderSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class SocialLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    provider = serializers.CharField()
    email = serializers.SerializerMethodField()
    linked_at = serializers.DateTimeField(source="date_joined")

    def get_email(self, link) -> str:
        # Providers keep the profile at the top (GitHub, Google) or under userinfo / id_token (OIDC).
        data = link.extra_data or {}
        for source in (data, data.get("userinfo"), data.get("id_token")):
            if isinstance(source, dict) and isinstance(source.get("email"), str):
                return source["email"]
        return ""


class SocialStatusSerializer(serializers.Serializer):
    providers = SocialProviderSerializer(many=True)
    links = SocialLinkSerializer(many=True)
    has_password = serializers.BooleanField()
