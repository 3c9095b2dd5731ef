"""Completed runs reach the game (XP, streaks, badges) through the worker, many per message.

A Celery message per run cost the settling thread about 1.5 ms of CPU (building the message,
a Redis round trip), all at once when many runs end together, in threads competing with the
event loop that streams everyone's tokens. Here runs completed within LINGER_SECONDS of each
other share one `llm.runs_completed_record` message, sent by one background thread. With eager
tasks (development, tests) each run is recorded at once, in the settling thread, as before.
"""

import atexit
import logging
import os
import threading
import time

from celery import current_app

logger = logging.getLogger(__name__)

# How long the first completed run of a batch waits for others. XP is not on the run's path: the
# client has its run.completed before the run reaches the worker either way.
LINGER_SECONDS = 0.05


class CompletedRuns:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ids: list[str] = []
        self._sending = False
        self._pid: int | None = None

    def add(self, run_id) -> None:
        """Queue a committed, completed run for the worker."""
        from llm.tasks import runs_completed_record

        if current_app.conf.task_always_eager:
            runs_completed_record.delay([str(run_id)])
            return
        with self._cond:
            if self._pid != os.getpid():  # first use, or a forked child: its own thread
                self._pid, self._ids, self._sending = os.getpid(), [], False
                threading.Thread(target=self._run, name="llm-completions", daemon=True).start()
            self._ids.append(str(run_id))
            self._cond.notify()

    def warm_up(self) -> bool:
        """Prepare what the first hand-off needs (server startup): True if anything was to prepare.

        The first `delay` of a process finalizes the Celery app, imports the broker transport
        and connects: about 30 ms of CPU in the hand-off thread, holding the interpreter lock
        while the event loop waits to stream tokens.
        """
        from llm.tasks import runs_completed_record

        app = current_app
        if app.conf.task_always_eager:
            return False
        app.finalize(auto=True)
        runs_completed_record.name  # noqa: B018  (resolves the task proxy)
        try:
            with app.producer_or_acquire() as producer:
                producer.connection.ensure_connection(max_retries=1)
                producer.channel  # noqa: B018  (opens the channel)
        except Exception:  # the broker is down now: the first hand-off will connect (or log)
            logger.warning("could not connect to the Celery broker at startup", exc_info=True)
        return True

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued run has been handed to the broker (process exit, tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._ids and not self._sending, timeout)

    def _run(self) -> None:
        from llm.tasks import runs_completed_record

        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._ids)
                self._sending = True
            time.sleep(LINGER_SECONDS)
            with self._cond:
                batch, self._ids = self._ids, []
            try:
                runs_completed_record.delay(batch)
            except Exception:  # the broker is down: the runs stay settled; their XP is lost, as before
                logger.exception("could not hand %d completed runs to the worker", len(batch))
            finally:
                with self._cond:
                    self._sending = False
                    self._cond.notify_all()


completed_runs = CompletedRuns()
# Short-lived processes (commands, scripts) hand over what they completed before exiting.
atexit.register(completed_runs.wait_idle, 2.0)
