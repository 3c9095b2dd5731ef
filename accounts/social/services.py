"""Account writes of social sign-in: sign in or sign up with a provider identity, link and unlink providers.

A provider identity signs in the account it is linked to (allauth's `SocialAccount`, unique per
provider and uid). An unlinked identity whose email belongs to an account never signs into it,
even when the provider verified the address: its owner links the provider from their profile,
signed in. Otherwise it registers a new account through `user_register` (the same onboarding),
verified at once only when the provider vouches for the address.
"""

import re
import secrets

from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction

from accounts import selectors
from accounts.privacy import DELETED_PREFIX
from accounts.services import DuplicateAccount, TokenPair, token_pair_issue, user_register, users_lock
from accounts.social.protocol import ProviderIdentity

User = get_user_model()

USERNAME_CHARS = re.compile(r"[^A-Za-z0-9_.+-]+")  # registration's characters, without "@"
USERNAME_MAX = 30


class SocialRefused(Exception):
    """The identity cannot be used as asked (`code`: email_required, account_exists, already_linked,
    provider_linked, last_sign_in, account_inactive)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _link_find(identity: ProviderIdentity):
    return SocialAccount.objects.select_related("user").filter(provider=identity.provider, uid=identity.uid).first()


def _username_for(identity: ProviderIdentity, *, attempt: int) -> str:
    base = USERNAME_CHARS.sub("", identity.username or identity.email.split("@")[0])[:USERNAME_MAX] or "learner"
    if base.lower().startswith(DELETED_PREFIX):  # the names of deleted accounts
        base = f"learner-{base[len(DELETED_PREFIX) :]}"[:USERNAME_MAX]
    if attempt == 0 and not selectors.username_taken(username=base):
        return base
    return f"{base[: USERNAME_MAX - 7]}-{secrets.token_hex(3)}"


def social_sign_in(*, identity: ProviderIdentity) -> tuple[object, TokenPair, bool]:
    """The account this identity signs into (registering it if new), a fresh token pair, and whether it was created.

    Raises SocialRefused: `account_exists` when an account already has the identity's email
    (never linked here, whatever the provider says), `email_required`, `account_inactive`.
    """
    for attempt in range(3):
        link = _link_find(identity)
        if link is not None:
            if not link.user.is_active:
                raise SocialRefused("account_inactive", "This account is deactivated.")
            with transaction.atomic():
                update_last_login(None, link.user)
                return link.user, token_pair_issue(user=link.user), False
        if not identity.email:
            raise SocialRefused("email_required", "The provider did not share an email address.")
        if selectors.email_taken(email=identity.email):
            if _link_find(identity) is not None:
                continue  # a concurrent first sign-in with this identity has just committed it
            raise SocialRefused(
                "account_exists",
                "An account already uses this email. Sign in to it and link the provider from your profile.",
            )
        try:
            with transaction.atomic():
                user = user_register(
                    username=_username_for(identity, attempt=attempt),
                    email=identity.email,
                    password=None,  # no password: the provider is the way in until one is set
                    first_name=identity.first_name,
                    last_name=identity.last_name,
                    email_verified=identity.email_verified,
                )
                SocialAccount.objects.create(
                    user=user, provider=identity.provider, uid=identity.uid, extra_data=identity.extra_data
                )
                update_last_login(None, user)
                return user, token_pair_issue(user=user), True
        except (DuplicateAccount, IntegrityError):
            # Lost a race: the username (next attempt picks another), the email (the check above
            # now refuses) or this identity (a concurrent first sign-in linked it: sign into that).
            continue
    raise SocialRefused("account_exists", "This account could not be created; try again.")


@transaction.atomic
def social_link(*, user, identity: ProviderIdentity) -> SocialAccount:
    """Link a provider identity to a signed-in user (again: no change).

    Raises SocialRefused: `already_linked` (another account has this identity), `provider_linked`
    (the user has another identity of this provider).
    """
    users_lock(user_ids=[user.pk])
    link = _link_find(identity)
    if link is not None:
        if link.user_id != user.pk:
            raise SocialRefused("already_linked", "This provider account is linked to another account.")
        return link
    if SocialAccount.objects.filter(user=user, provider=identity.provider).exists():
        raise SocialRefused("provider_linked", "Another account of this provider is linked already; unlink it first.")
    try:
        with transaction.atomic():
            return SocialAccount.objects.create(
                user=user, provider=identity.provider, uid=identity.uid, extra_data=identity.extra_data
            )
    except IntegrityError:
        raise SocialRefused("already_linked", "This provider account is linked to another account.") from None


@transaction.atomic
def social_unlink(*, user, link_id: int) -> bool:
    """Remove one of the user's links; False if they have no such link.

    Raises SocialRefused(`last_sign_in`) when it is the account's last way in (no usable password).
    """
    users_lock(user_ids=[user.pk])
    links = list(SocialAccount.objects.filter(user=user).values_list("pk", flat=True))
    if link_id not in links:
        return False
    fresh = User.objects.get(pk=user.pk)
    if len(links) == 1 and not fresh.has_usable_password():
        raise SocialRefused("last_sign_in", "Set a password before unlinking your only sign-in provider.")
    SocialAccount.objects.filter(pk=link_id, user=user).delete()
    return True
