"""A Celery worker killed mid-task: the task is delivered again and its award is made exactly once."""

import json
import threading
import time

import pytest
from celery import current_app
from django.db import connection, transaction

from accounts.models import User
from game.models import Activity, XPEvent
from llm.models import LLMRun, RunStatus
from tests.support import processes

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

# Taken messages come back 3 s after their worker went, swept for every second.
TRANSPORT = json.dumps({"visibility_timeout": 3, "unacked_restore_interval": 1, "unacked_restore_throttle": 1})


def _hold_user_row(user_id, locked: threading.Event, release: threading.Event) -> None:
    """Hold the user's row lock (as a slow transaction would) until told to let go."""
    try:
        with transaction.atomic():
            User.objects.select_for_update().get(pk=user_id)
            locked.set()
            release.wait(60)
    finally:
        connection.close()


def _log(path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def test_a_task_whose_worker_is_killed_mid_task_is_redelivered_and_awards_once(make_user, tmp_path):
    user = make_user("alice")
    run = LLMRun.objects.create(
        user=user, model="openai:gpt-4o-mini", prompt="Hi", status=RunStatus.COMPLETED, output_tokens=20
    )
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_user_row, args=(user.pk, locked, release))
    holder.start()
    assert locked.wait(10)
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    try:
        with processes.celery_worker(first, CELERY_BROKER_TRANSPORT_OPTIONS=TRANSPORT) as worker:
            current_app.signature("llm.run_completed_record", args=(str(run.pk),)).delay()
            deadline = time.monotonic() + 20
            while "llm.run_completed_record" not in _log(first / "celery-worker.log"):
                assert time.monotonic() < deadline, _log(first / "celery-worker.log")
                time.sleep(0.1)
            time.sleep(0.5)  # the task is running, waiting for the row lock
            worker.kill()  # the whole worker dies mid-task: no ack, no reject
            worker.wait(10)
        release.set()
        holder.join(10)
        assert not Activity.objects.filter(user=user).exists()

        started = time.monotonic()
        with processes.celery_worker(second, CELERY_BROKER_TRANSPORT_OPTIONS=TRANSPORT):
            while not Activity.objects.filter(user=user, activity="run.completed").exists():
                assert time.monotonic() - started < 30, _log(second / "celery-worker.log")
                time.sleep(0.2)
            time.sleep(2)  # room for a second delivery, were there one
    finally:
        current_app.conf.task_always_eager = eager
        release.set()
        holder.join(10)

    assert Activity.objects.filter(user=user, activity="run.completed").count() == 1
    assert XPEvent.objects.filter(user=user, reason="run.completed").count() == 1
