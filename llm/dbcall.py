"""Run an ORM call from the event loop on the llm app's own small thread pool.

Channels' `database_sync_to_async` is thread-sensitive: all ORM calls of a process share one
thread, so runs settling together wait behind each other and behind every other ORM call. Run
starts and settles are independent transactions, so on PostgreSQL they get a few threads of
their own (LLM_DB_THREADS): enough to overlap database waits, few enough that threads competing
for the GIL do not stall the event loop that streams tokens. SQLite (dev) keeps the single
thread, as it allows one writer at a time anyway.
"""

import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

from llm import conf

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=conf.db_threads(), thread_name_prefix="llm-db")


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

    if connection.vendor == "sqlite":
        return sync_to_async(closing, thread_sensitive=True)
    return sync_to_async(closing, thread_sensitive=False, executor=_executor())
