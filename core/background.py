"""Handing work to the Celery worker without losing it when the broker is away."""

import logging
from collections.abc import Callable
from typing import Any

import redis
from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_or_run(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Queue the task; if the broker cannot take it, run it here and now.

    For idempotent tasks whose loss would be felt (an award, a mail): a Redis outage slows the
    caller by one task instead of dropping it. Named, not imported, so no app imports another's
    tasks module.
    """
    signature = current_app.signature(task_name, args=args, kwargs=kwargs)
    if current_app.conf.task_always_eager:  # no broker: the task runs (and fails) here anyway
        signature.apply_async()
        return
    try:
        signature.apply_async(retry=False)
        return
    except (OperationalError, redis.RedisError):
        logger.warning("broker unavailable: running %s in process", task_name, exc_info=True)
    try:
        signature.apply(throw=True)
    except Exception:
        logger.exception("%s failed in process", task_name)


def after_commit(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call `func(*args, **kwargs)` once the transaction commits; a failure is logged, never raised.

    Django's robust hooks name the failing callable by `__qualname__`, which a bare
    `functools.partial` lacks: its failure would then raise from the commit instead.
    """

    def hook() -> None:
        func(*args, **kwargs)

    hook.__qualname__ = getattr(func, "__qualname__", repr(func))
    transaction.on_commit(hook, robust=True)


def enqueue_on_commit(task_name: str, *args: Any, **kwargs: Any) -> None:
    """`enqueue_or_run` once the current transaction commits; a failure is logged, never raised."""
    after_commit(enqueue_or_run, task_name, *args, **kwargs)
