"""Celery tasks of accounts: thin wrappers over services."""

from smtplib import SMTPException

from celery import shared_task

from accounts import avatars, privacy, services


@shared_task(name="accounts.expired_tokens_flush", ignore_result=True)
def expired_tokens_flush() -> int:
    """Keep the refresh token tables small (beat runs it daily)."""
    return services.expired_tokens_flush()


@shared_task(
    name=services.PASSWORD_RESET_EMAIL_TASK,
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    max_retries=5,
    retry_backoff=True,
)
def password_reset_email_send(email: str) -> bool:
    """Send a reset link off the request; a mail server that fails is retried with backoff."""
    return services.password_reset_email_send(email=email)


@shared_task(
    name=services.EMAIL_VERIFICATION_TASK,
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    max_retries=5,
    retry_backoff=True,
)
def email_verification_send(user_id: str, email: str) -> bool:
    """Send a verification link off the request; a mail server that fails is retried with backoff."""
    return services.email_verification_send(user_id=user_id, email=email)


@shared_task(
    name=privacy.ACCOUNT_ERASE_TASK, ignore_result=True, autoretry_for=(OSError,), max_retries=5, retry_backoff=True
)
def account_erase(user_id: str) -> bool:
    """Erase a deleted account's personal data (idempotent: a retry or a second run changes nothing)."""
    return privacy.account_erase(user_id=user_id)


@shared_task(
    name=avatars.AVATAR_DELETE_TASK,
    ignore_result=True,
    autoretry_for=avatars.STORAGE_ERRORS,
    max_retries=5,
    retry_backoff=True,
)
def avatar_file_delete(name: str) -> None:
    """Delete an avatar file that no row names any more (after the switch committed); retried on storage errors."""
    avatars.avatar_file_delete(name=name)
