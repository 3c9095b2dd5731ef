"""Run an ORM call from the event loop without queueing behind every other ORM call of the process.

Channels' `database_sync_to_async` is thread-sensitive: all calls of a process share one thread,
so twenty runs settling at once wait for each other. Run starts and settles are independent
transactions, so on PostgreSQL they use the thread pool; SQLite (dev) keeps the single thread,
as it allows one writer at a time anyway.
"""

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

P = ParamSpec("P")
R = TypeVar("R")


def db_call(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(func)
    def closing(*args: P.args, **kwargs: P.kwargs) -> R:
        # Inside the call's own context: that is where its connection lives (asgiref runs
        # non-thread-sensitive calls in a copied context, out of reach of an outer cleanup).
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(closing, thread_sensitive=connection.vendor == "sqlite")
