"""Account reads."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import api_keys
from accounts.models import PersonalAPIKey

User = get_user_model()


def user_find_for_login(*, username_or_email: str):
    """The user a login identifier names, case-insensitively: an email if it has an "@", else a username.

    Registration keeps "@" out of usernames, so nobody can take a username equal to someone
    else's email and shadow their sign-in.
    """
    identifier = username_or_email.strip()
    if not identifier:
        return None
    if "@" in identifier:
        return User.objects.filter(email__iexact=identifier).first()
    return User.objects.filter(username__iexact=identifier).first()


def user_find_by_id(*, user_id):
    return User.objects.filter(pk=user_id).first()


def user_find_by_email(*, email: str):
    return User.objects.filter(email__iexact=email.strip()).first()


def username_taken(*, username: str, exclude_id=None) -> bool:
    return User.objects.filter(username__iexact=username).exclude(pk=exclude_id).exists()


def email_taken(*, email: str, exclude_id=None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_id).exists()


def user_live_refresh_tokens(*, user_id):
    """Outstanding, unexpired, not yet blacklisted refresh tokens of a user."""
    return OutstandingToken.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )


def api_keys_live(*, user_id):
    """A user's keys not revoked (expired ones included: their owner still sees them), newest first."""
    return PersonalAPIKey.objects.filter(user_id=user_id, revoked_at__isnull=True).order_by("-created_at", "-pk")


def api_key_user(*, key: str):
    """The active user a live, unexpired personal key belongs to, else None.

    The key is found by its SHA-256 (a unique index), never compared as text.
    """
    found = (
        PersonalAPIKey.objects.select_related("user")
        .filter(key_hash=api_keys.key_hash(key), revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )
    return None if found is None else found.user


def user_has_social_links(*, user) -> bool:
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(user=user).exists()


def social_links(*, user) -> list:
    """The user's linked sign-in providers (allauth's SocialAccount rows), oldest first."""
    from allauth.socialaccount.models import SocialAccount

    return list(SocialAccount.objects.filter(user=user).order_by("date_joined", "pk"))
