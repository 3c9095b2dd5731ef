"""Account writes: registration, email verification, sign-in tokens, profile and password changes."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.module_loading import import_string
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import api_keys, email_tokens, selectors
from accounts.models import PersonalAPIKey
from accounts.ws import revocation
from core.background import after_commit, enqueue_on_commit

User = get_user_model()

PASSWORD_RESET_EMAIL_TASK = "accounts.password_reset_email_send"
EMAIL_VERIFICATION_TASK = "accounts.email_verification_send"


class InvalidCredentials(Exception):
    """Unknown user, wrong password or inactive account: callers cannot tell which."""


class InvalidRefreshToken(Exception):
    """Malformed, expired, foreign, already used or revoked refresh token, or an inactive owner."""


class DuplicateAccount(Exception):
    """The username or email is already registered (`field` names which)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class InvalidResetLink(Exception):
    """The password reset uid/token pair is wrong, used or expired."""


class InvalidVerificationLink(Exception):
    """The email verification token is malformed, expired, or names an address the account no longer has."""


class APIKeyRefused(Exception):
    """A personal API key cannot be created (`field` names the input at fault)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


# --- Row locks -----------------------------------------------------------------------------


def users_lock(*, user_ids: Iterable) -> None:
    """Lock these users' rows in primary-key order; call inside a transaction, before locking what they act on.

    User rows come early in the project's lock order, ascending by primary key: before the runs,
    templates, ratings and favourites a write changes (prompts.services); only the row of an
    operation that spans many runs (a challenge attempt) is locked before its user. A write that
    touches two users (one rates, forks or favourites the other's template, which awards its
    owner) takes both here, so two such writes crossing each other queue instead of deadlocking.
    PostgreSQL locks the rows in the ORDER BY order.
    """
    ids = set(user_ids)
    if ids:
        list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


# --- Registration and profile -------------------------------------------------------------


def user_register(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email_verified: bool = False,
    **extra: Any,
):
    """Create a user (inputs already validated) and onboard them into the game in one transaction.

    An account whose email is not known to be verified (`email_verified`: demo and test accounts,
    a provider that vouches for the address) is sent a verification link once this commits.
    """
    try:
        with transaction.atomic():
            user = User(
                username=username,
                email=User.objects.normalize_email(email),
                first_name=first_name,
                last_name=last_name,
                email_verified=email_verified,
                **extra,
            )
            user.set_password(password)
            user.save()
            user_onboard(user=user)
            if not email_verified:
                email_verification_request(user=user)
    except IntegrityError:
        # Lost a race with a concurrent registration of the same name or email.
        if selectors.username_taken(username=username):
            raise DuplicateAccount("username") from None
        if selectors.email_taken(email=email):
            raise DuplicateAccount("email") from None
        raise
    user.refresh_from_db()  # onboarding updates counters with F() expressions
    return user


def user_onboard(*, user) -> None:
    """Starting credits and progress of a new user (settings.ACCOUNTS_ON_REGISTER, run by the game)."""
    import_string(settings.ACCOUNTS_ON_REGISTER)(user=user)


PROFILE_FIELDS = frozenset({"email", "first_name", "last_name", "timezone", "bio"})


@transaction.atomic
def user_profile_update(*, user, **changes: Any):
    """Change the caller-editable profile fields; progress counters are never touched here.

    A new email address is unverified until its own link is followed; the link goes out on commit.
    """
    fields = sorted(set(changes) & PROFILE_FIELDS)
    if not fields:
        return user
    old_email = user.email
    for name in fields:
        value = changes[name]
        setattr(user, name, User.objects.normalize_email(value) if name == "email" else value)
    email_changed = user.email.lower() != old_email.lower()
    if email_changed:
        user.email_verified = False
        fields.append("email_verified")
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError:
        raise DuplicateAccount("email") from None
    if email_changed:
        email_verification_request(user=user)
        # Open sockets hold the user as they signed in: they read it again, so their runs stop
        # spending credits (llm.services.run_start trusts a verified user object).
        after_commit(revocation.user_changed, user_id=user.pk)
    return user


# --- Email verification ---------------------------------------------------------------------


def email_verification_request(*, user) -> None:
    """Queue a verification link to the user's current address (a worker sends it, after commit).

    The task is named rather than imported: accounts.tasks imports this module.
    """
    # A task that fails (eagerly, or in process while the broker is away) is logged, not a 500.
    enqueue_on_commit(EMAIL_VERIFICATION_TASK, user_id=str(user.pk), email=user.email)


def email_verification_resend(*, user) -> bool:
    """Send a new verification link unless the address is verified already; True if one was queued."""
    if User.objects.filter(pk=user.pk, email_verified=True).exists():
        return False
    email_verification_request(user=user)
    return True


def email_verification_link(*, user) -> str:
    """The page that verifies the user's current address (FRONTEND_URL/verify-email/?token=…)."""
    token = email_tokens.token_make(user_id=user.pk, email=user.email)
    return f"{settings.FRONTEND_URL.rstrip('/')}/verify-email/?token={token}"


def email_verification_send(*, user_id, email: str) -> bool:
    """Email a verification link if the account is active, unverified and still has `email`; True if sent."""
    user = User.objects.filter(pk=user_id, is_active=True, email_verified=False, email__iexact=email).first()
    if user is None:  # verified meanwhile, or the address changed again (its own link is queued)
        return False
    link = email_verification_link(user=user)
    hours = settings.EMAIL_VERIFICATION_TIMEOUT // 3600
    send_mail(
        subject="Confirm your PromptCraft email address",
        message=(
            f"Hello {user.username},\n\n"
            f"Please confirm that {user.email} is your address by opening\n"
            f"{link}\n\n"
            f"Until then your account can browse and make a few free runs a day on the built-in models,\n"
            f"but not spend its credits. The link works for {hours} hours; the profile page sends a new one.\n"
            f"If you did not sign up for PromptCraft, ignore this email.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True


@transaction.atomic
def email_verify(*, token: str):
    """Mark the address a verification token names as verified (again: no change); raises InvalidVerificationLink."""
    claim = email_tokens.token_read(token)
    if claim is None:
        raise InvalidVerificationLink
    try:
        user = User.objects.select_for_update().filter(pk=claim.user_id, is_active=True).first()
    except (ValueError, ValidationError):  # a well-signed token never names a malformed id; be safe
        user = None
    if user is None or user.email.lower() != claim.email:
        raise InvalidVerificationLink
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        after_commit(revocation.user_changed, user_id=user.pk)  # open sockets: verified from now on
    return user


# --- Sign-in tokens -------------------------------------------------------------------------


def user_authenticate(*, username_or_email: str, password: str):
    """The active user these credentials prove, else InvalidCredentials.

    Unknown identifiers still run the password hasher so response time does not reveal which
    accounts exist.
    """
    user = selectors.user_find_for_login(username_or_email=username_or_email)
    if user is None:
        User().set_password(password)
        raise InvalidCredentials
    if not user.check_password(password) or not user.is_active:
        raise InvalidCredentials
    return user


def token_pair_issue(*, user, session_id: str | None = None) -> TokenPair:
    """A new refresh token (recorded as outstanding) and its access token.

    Both carry the session's id (`sid`, a new one unless given): rotations keep it, so a logout
    can end the open sockets of that session alone.
    """
    refresh = RefreshToken.for_user(user)
    refresh[revocation.SESSION_CLAIM] = session_id or uuid.uuid4().hex
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


@transaction.atomic
def user_login(*, username_or_email: str, password: str) -> tuple[Any, TokenPair]:
    user = user_authenticate(username_or_email=username_or_email, password=password)
    update_last_login(None, user)
    return user, token_pair_issue(user=user)


def _locked_outstanding(raw: str) -> tuple[OutstandingToken, RefreshToken]:
    """The live outstanding row of a refresh token, locked, and the token; call inside a transaction."""
    try:
        token = RefreshToken(raw)
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc)) from exc
    # The lock serialises concurrent uses of one token: the second waits here and then sees the
    # blacklist row the first committed (simplejwt's own exists()/get_or_create check races).
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=token[jwt_settings.JTI_CLAIM]).first()
    if outstanding is None or BlacklistedToken.objects.filter(token_id=outstanding.pk).exists():
        raise InvalidRefreshToken("Token is blacklisted")
    return outstanding, token


def _blacklist(outstanding: OutstandingToken) -> None:
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        # Databases without row locks (SQLite) reach here when a concurrent use won.
        raise InvalidRefreshToken("Token is blacklisted") from None


@transaction.atomic
def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate a refresh token: it is blacklisted and a new pair issued; any reuse fails."""
    outstanding, token = _locked_outstanding(refresh)
    user = User.objects.filter(pk=outstanding.user_id, is_active=True).first()
    if user is None:
        raise InvalidRefreshToken("No active account found for the given token.")
    _blacklist(outstanding)
    return token_pair_issue(user=user, session_id=token.get(revocation.SESSION_CLAIM))


@transaction.atomic
def token_revoke(*, refresh: str) -> None:
    """Log out: blacklist one refresh token, and end its session's open sockets."""
    outstanding, token = _locked_outstanding(refresh)
    _blacklist(outstanding)
    session_id = token.get(revocation.SESSION_CLAIM)
    if session_id:  # tokens issued before sessions had ids name none
        after_commit(revocation.session_end, user_id=outstanding.user_id, session_id=session_id)


def user_sessions_end(*, user) -> int:
    """End every session of a user: blacklist its live refresh tokens, revoke its personal API keys, close its
    open sockets; returns how many tokens.

    For a password change or reset and a deactivation. The sockets close after commit (4401, on
    every process); their access tokens open no new one, as they carry the old password's hash or
    name an inactive user.
    """
    live = list(selectors.user_live_refresh_tokens(user_id=user.pk))
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in live], ignore_conflicts=True)
    api_keys_revoke_all(user_id=user.pk)
    after_commit(revocation.sockets_close, user_id=user.pk)
    return len(live)


def expired_tokens_flush() -> int:
    """Delete outstanding (and so blacklisted) refresh tokens past their expiry; returns how many."""
    _, per_model = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return per_model.get(OutstandingToken._meta.label, 0)


# --- Personal API keys --------------------------------------------------------------------

API_KEYS_MAX = 20  # live keys per user


@dataclass(frozen=True)
class CreatedAPIKey:
    api_key: PersonalAPIKey
    key: str  # the key itself: returned this once, never stored


@transaction.atomic
def api_key_create(*, user, name: str, expires_at=None) -> CreatedAPIKey:
    """A new personal API key for `user`; raises APIKeyRefused (past expiry, too many keys)."""
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise APIKeyRefused("expires_at", "The expiry must be in the future.")
    users_lock(user_ids=[user.pk])  # the count below is exact under concurrent creations
    if selectors.api_keys_live(user_id=user.pk).count() >= API_KEYS_MAX:
        raise APIKeyRefused("name", f"At most {API_KEYS_MAX} keys at a time; revoke one first.")
    key = api_keys.key_generate()
    api_key = PersonalAPIKey.objects.create(
        user=user,
        name=name,
        prefix=api_keys.key_shown_prefix(key),
        key_hash=api_keys.key_hash(key),
        expires_at=expires_at,
    )
    return CreatedAPIKey(api_key=api_key, key=key)


def api_key_revoke(*, user, key_id) -> bool:
    """Revoke one of the user's own keys; False when they have no such live key."""
    return bool(
        PersonalAPIKey.objects.filter(pk=key_id, user_id=user.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def api_keys_revoke_all(*, user_id) -> int:
    """Revoke every live key of a user (with their sessions: password change or reset, deactivation)."""
    return PersonalAPIKey.objects.filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- Passwords ------------------------------------------------------------------------------


@transaction.atomic
def user_password_change(*, user, new_password: str) -> TokenPair:
    """Set a new password (already validated), sign out every session, and return a fresh pair."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # Access tokens carry a hash of the password (CHECK_REVOKE_TOKEN), so they die with it.
    user_sessions_end(user=user)
    return token_pair_issue(user=user)


def password_reset_link(*, user) -> tuple[str, str]:
    """The uid and one-time token of a reset link (the token dies once the password changes)."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def password_reset_request(*, email: str) -> None:
    """Queue the reset email for `email` (a worker sends it, if an active account has that email).

    The request neither looks the email up nor talks to the mail server, so its answer and its
    timing are the same for every address, and a mail server failure is the worker's to retry.
    The task is named rather than imported: accounts.tasks imports this module.
    """
    # A task that fails (eagerly, or in process while the broker is away) is logged, not a 500.
    enqueue_on_commit(PASSWORD_RESET_EMAIL_TASK, email=email)


def password_reset_email_send(*, email: str) -> bool:
    """Email a reset link when an active account has this email; True if one was sent."""
    user = selectors.user_find_by_email(email=email)
    if user is None or not user.is_active:
        return False
    # An account without a password gets none by email (one made so in the admin), unless it signs in
    # with a provider: the reset is how a social-only account sets its first password.
    if not user.has_usable_password() and not selectors.user_has_social_links(user=user):
        return False
    uid, token = password_reset_link(user=user)
    link = f"{settings.FRONTEND_URL.rstrip('/')}/reset-password/?uid={uid}&token={token}"
    send_mail(
        subject="Reset your PromptCraft password",
        message=(
            f"Hello {user.username},\n\n"
            f"Someone asked to reset the password of your PromptCraft account. To choose a new one, open\n"
            f"{link}\n\n"
            f"or send uid={uid} and token={token} to POST /api/v1/auth/password/reset/confirm/.\n"
            f"If it was not you, ignore this email; the link expires on its own.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True


def password_reset_user(*, uid: str, token: str):
    """The active user a reset uid/token pair names, else InvalidResetLink."""
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        user = User.objects.filter(pk=pk, is_active=True).first()
    except (ValueError, TypeError, OverflowError, ValidationError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidResetLink
    return user


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str):
    """Set the password from a reset link (which then stops working) and sign out every session."""
    user = password_reset_user(uid=uid, token=token)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_sessions_end(user=user)
    return user
