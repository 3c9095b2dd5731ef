"""Celery tasks of accounts: thin wrappers over services."""

from celery import shared_task

from accounts import services


@shared_task(name="accounts.expired_tokens_flush", ignore_result=True)
def expired_tokens_flush() -> int:
    """Keep the refresh token tables small (beat runs it daily)."""
    return services.expired_tokens_flush()
