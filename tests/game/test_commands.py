"""`game_check` verifies and repairs counters; the rebuild task runs in a real Celery worker."""

import time
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.redis import redis_client
from game.leaderboards.boards import board_key, ready_key
from game.leaderboards.reads import redis_range
from game.services import xp_award
from tests.support import processes

User = get_user_model()


@pytest.mark.django_db
def test_game_check_reports_and_repairs_counters_that_drifted_from_the_ledgers(make_user):
    alice = make_user("alice")
    xp_award(user_id=alice.pk, amount=350, reason="bonus", idempotency_key="x")
    User.objects.filter(pk=alice.pk).update(experience_points=5, level=9, user_rank="Prompt Legend", credits=1)

    with pytest.raises(CommandError, match="4 counter"):
        call_command("game_check", stdout=StringIO())
    out = StringIO()
    call_command("game_check", "--repair", stdout=out)

    alice.refresh_from_db()
    assert (alice.experience_points, alice.level, alice.user_rank, alice.credits) == (350, 3, "Prompt Novice", 150)
    assert "Repaired 4 counter(s)." in out.getvalue()
    clean = StringIO()
    call_command("game_check", stdout=clean)
    assert "All counters match the ledgers." in clean.getvalue()


def test_beat_schedules_the_rebuild_task():
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["game-leaderboards-rebuild"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["schedule"] > 0


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_rebuild_task_runs_in_a_real_worker(make_user, log_dir):
    from config.celery import app
    from game.tasks import leaderboards_rebuild

    alice, bob = make_user("alice"), make_user("bob")
    xp_award(user_id=alice.pk, amount=10, reason="bonus", idempotency_key="a")
    xp_award(user_id=bob.pk, amount=30, reason="bonus", idempotency_key="b")
    redis_client(role="leaderboards").flushdb()  # boards lost: reads fall back to SQL until rebuilt
    client = redis_client(role="leaderboards")
    key = board_key("all-time", timezone.now())

    def board() -> list[tuple[str, int]]:
        return [(r.username, r.score) for r in redis_range(client, "all-time", key, 0, 9)]

    # The rebuild restores the board, then gives both the weekly top-10 badge (+100 XP each).
    expected = [("bob", 130), ("alice", 110)]
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # send to the broker: the worker, not this process, runs it
    try:
        with processes.celery_worker(log_dir) as worker:
            leaderboards_rebuild.delay()
            deadline = time.monotonic() + 30
            while board() != expected and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
    finally:
        app.conf.task_always_eager = eager

    assert board() == expected
    assert client.exists(ready_key(key)) == 1
    assert "game.leaderboards_rebuild" in (log_dir / "celery-worker.log").read_text()
