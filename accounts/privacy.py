"""A learner's data: the export document, and deleting the account (deactivate now, erase later).

Every app contributes its part through one `PrivacyPart` listed in `settings.ACCOUNTS_PRIVACY_PARTS`
(dotted paths), so accounts never imports the apps above it. The export lists the parts in that
order; the erasure runs them in reverse (the highest apps first, accounts' own part last), in one
transaction, so a failed erasure leaves nothing half done and is simply run again.

What erasure keeps: the user row itself, anonymised (`deleted-<short id>`, no email, names or bio),
so the XP and credit ledgers, ratings and insights rollups that point at it keep their totals;
public templates and public challenges, handed to one "deleted user" system account.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts import selectors
from accounts.services import user_sessions_end, users_lock
from core.background import enqueue_on_commit

logger = logging.getLogger(__name__)

User = get_user_model()

ACCOUNT_ERASE_TASK = "accounts.account_erase"
DELETED_PREFIX = "deleted-"  # usernames nobody may register: anonymised accounts and their heir
DELETED_OWNER_USERNAME = "deleted-user"
# A reserved domain (RFC 2606): an address that can never receive mail and matches nobody's.
DELETED_EMAIL_DOMAIN = "deleted.invalid"
CONFIRMATION_SALT = "accounts.delete-confirmation"
EXPORT_FORMAT = 1


@dataclass(frozen=True)
class PrivacyPart:
    """One app's share: `export(user)` a JSON-ready value, `erase(user, heir)` its personal rows.

    `heir()` gives the "deleted user" account that takes over what stays published (created on its
    first call, so an erasure with nothing to hand over creates none).
    """

    name: str
    export: Callable[..., Any]
    erase: Callable[..., None]


class DeletionRefused(Exception):
    """The account cannot be deleted as asked (`field` names the input at fault)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@cache
def parts() -> tuple[PrivacyPart, ...]:
    return tuple(import_string(path) for path in settings.ACCOUNTS_PRIVACY_PARTS)


# --- Export ---------------------------------------------------------------------------------


def export_document(*, user) -> dict[str, Any]:
    """Everything the learner may see of their own data, one key per part."""
    document: dict[str, Any] = {"format": EXPORT_FORMAT, "exported_at": timezone.now().isoformat()}
    for part in parts():
        document[part.name] = part.export(user=user)
    return document


# --- Deletion -------------------------------------------------------------------------------


def confirmation_make(*, user, provider: str, uid: str) -> str:
    """A token proving the user has just signed in with `provider` (for a deletion without a password)."""
    return signing.dumps({"u": str(user.pk), "p": provider, "uid": uid}, salt=CONFIRMATION_SALT, compress=True)


def confirmation_valid(*, user, token: str) -> bool:
    """Whether `token` is a fresh confirmation for this user through a provider still linked to them."""
    try:
        claim = signing.loads(token, salt=CONFIRMATION_SALT, max_age=settings.ACCOUNT_DELETE_REAUTH_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    if not isinstance(claim, dict) or claim.get("u") != str(user.pk):
        return False
    return any(
        link.provider == claim.get("p") and link.uid == claim.get("uid") for link in selectors.social_links(user=user)
    )


@transaction.atomic
def account_delete(*, user, password: str | None = None, confirmation: str | None = None) -> None:
    """Deactivate the account at once and queue the erasure of its personal data.

    An account with a password proves it with the password; one without (social sign-in only)
    with a `confirmation` from a fresh sign-in through a linked provider. Raises DeletionRefused.
    Every refresh token is blacklisted, every personal key revoked and every open socket closed
    (4401, on every process) as the deactivation commits.
    """
    users_lock(user_ids=[user.pk])
    fresh = User.objects.get(pk=user.pk)
    if not fresh.is_active:
        raise DeletionRefused("detail", "This account is already deleted.")
    if confirmation and confirmation_valid(user=fresh, token=confirmation):
        pass
    elif fresh.has_usable_password():
        if not password:
            raise DeletionRefused("password", "Enter your password to delete the account.")
        if not fresh.check_password(password):
            raise DeletionRefused("password", "The password is not correct.")
    else:
        message = "Confirm with your sign-in provider: sign in with it again, then delete within a few minutes."
        raise DeletionRefused("confirmation", message)
    fresh.is_active = False
    fresh.deleted_at = timezone.now()
    fresh.save(update_fields=["is_active", "deleted_at"])
    user_sessions_end(user=fresh)
    enqueue_on_commit(ACCOUNT_ERASE_TASK, user_id=str(fresh.pk))


def deleted_owner():
    """The inactive system account that owns what deleted learners published (created on first need)."""
    owner = User.objects.filter(username=DELETED_OWNER_USERNAME).first()
    if owner is not None:
        return owner
    try:
        with transaction.atomic():
            owner = User(
                username=DELETED_OWNER_USERNAME,
                email=f"{DELETED_OWNER_USERNAME}@{DELETED_EMAIL_DOMAIN}",
                is_active=False,
            )
            owner.set_unusable_password()
            owner.save()
            return owner
    except IntegrityError:  # a concurrent erasure created it
        return User.objects.get(username=DELETED_OWNER_USERNAME)


def anonymous_username(user) -> str:
    return f"{DELETED_PREFIX}{user.pk.hex[:12]}"


def account_erase(*, user_id) -> bool:
    """Erase a deleted account's personal data (again: no change); False unless it is a deleted account."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, deleted_at__isnull=False).first()
        if user is None:
            return False
        heir = cache(deleted_owner)
        for part in reversed(parts()):
            part.erase(user=user, heir=heir)
    logger.info("account %s erased", user_id)
    return True
