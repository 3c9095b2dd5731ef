"""accounts' part of the export and the erasure: the profile, personal API keys, linked providers."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import avatars
from accounts.models import PersonalAPIKey
from accounts.privacy import DELETED_EMAIL_DOMAIN, PrivacyPart, anonymous_username
from core.background import enqueue_on_commit

PROFILE_FIELDS = (
    "username",
    "email",
    "email_verified",
    "first_name",
    "last_name",
    "bio",
    "timezone",
    "credits",
    "level",
    "experience_points",
    "user_rank",
)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def export(*, user) -> dict[str, Any]:
    profile = {"id": str(user.pk), **{name: getattr(user, name) for name in PROFILE_FIELDS}}
    profile |= {"date_joined": _iso(user.date_joined), "last_login": _iso(user.last_login)}
    profile["avatar_url"] = avatars.avatar_url(user.avatar.name)
    # Metadata only: the key itself is never stored, and its hash is no business of the export.
    keys = [
        {
            "id": str(key.pk),
            "name": key.name,
            "prefix": key.prefix,
            "created_at": _iso(key.created_at),
            "expires_at": _iso(key.expires_at),
            "revoked_at": _iso(key.revoked_at),
        }
        for key in PersonalAPIKey.objects.filter(user_id=user.pk).order_by("created_at", "pk")
    ]
    # Provider and uid only: never the provider's tokens.
    links = [
        {"provider": link.provider, "uid": link.uid, "linked_at": _iso(link.date_joined)}
        for link in SocialAccount.objects.filter(user_id=user.pk).order_by("date_joined", "pk")
    ]
    return {"profile": profile, "api_keys": keys, "social_accounts": links}


def erase(*, user, heir) -> None:
    """Anonymise the row in place (it stays for the ledgers) and drop every way back in."""
    SocialAccount.objects.filter(user_id=user.pk).delete()  # their provider tokens go with them
    EmailAddress.objects.filter(user_id=user.pk).delete()
    PersonalAPIKey.objects.filter(user_id=user.pk).delete()
    OutstandingToken.objects.filter(user_id=user.pk).delete()  # and their blacklist rows
    user.username = anonymous_username(user)
    user.email = f"{user.username}@{DELETED_EMAIL_DOMAIN}"
    user.email_verified = False
    user.first_name = user.last_name = user.bio = ""
    user.timezone = "UTC"
    user.last_login = None
    user.is_active = user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    fields = ["username", "email", "email_verified", "first_name", "last_name", "bio", "timezone", "last_login"]
    fields += ["is_active", "is_staff", "is_superuser", "password"]
    if user.avatar:  # the picture's file goes once the erasure has committed (the task retries on storage errors)
        enqueue_on_commit(avatars.AVATAR_DELETE_TASK, name=user.avatar.name)
        user.avatar = ""
        fields.append("avatar")
    user.save(update_fields=fields)
    user.groups.clear()
    user.user_permissions.clear()


part = PrivacyPart(name="account", export=export, erase=erase)
