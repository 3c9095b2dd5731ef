"""The user: identity plus the progress counters that the game layer maintains through its ledgers."""

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower

DEFAULT_RANK = "Prompt Novice"


class PromptCraftUserManager(UserManager):
    def get_by_natural_key(self, username: str):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # Whoever runs createsuperuser holds the server: their address needs no proof.
        extra_fields.setdefault("email_verified", True)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254)
    # Proven by a signed link sent to `email` (accounts.email_tokens); changing the email clears it.
    # Until then the account may not spend credits (llm.services: only a daily allowance of free
    # runs on the embedded models).
    email_verified = models.BooleanField(default=False)
    # Counters below are written only by game.services (ledger row + F() update, same transaction).
    credits = models.IntegerField(default=0)
    level = models.PositiveIntegerField(default=1)
    experience_points = models.PositiveIntegerField(default=0)
    user_rank = models.CharField(max_length=32, default=DEFAULT_RANK)
    timezone = models.CharField(max_length=64, default="UTC")
    bio = models.TextField(max_length=500, blank=True)
    # Set when the learner deletes the account: it is deactivated at once, and a worker then erases
    # its personal data (accounts.privacy). The row stays, anonymised, so ledgers keep their totals.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The storage name of the processed picture (accounts.avatars): a new random name per upload,
    # so its URL can be cached for ever; empty when the user has none.
    avatar = models.ImageField(max_length=200, blank=True, default="")

    objects = PromptCraftUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            # Sign-in matches usernames case-insensitively, so "Ada" and "ada" must not both exist.
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="accounts_user_credits_non_negative"),
        ]
        indexes = [models.Index(fields=["-experience_points"], name="accounts_user_xp_idx")]

    def __str__(self) -> str:
        return self.username

    @property
    def avatar_url(self) -> str | None:
        return self.avatar.url if self.avatar else None


class PersonalAPIKey(models.Model):
    """A user's long-lived API key: only its SHA-256 is stored; the key itself is shown once, at creation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Led by the (user, -created_at) index below.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys", db_index=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)  # the key's first characters, so its owner can tell keys apart
    key_hash = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the whole key
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_apikey_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
