"""Redis split by role: each role's keys land in the Redis its variable names, and two daphne
processes configured so still share events, widgets, resumed runs, throttles and tasks.

Each test starts two redis-servers of its own. REDIS_URL points at a database of the first that
no role uses: it must stay empty.
"""

import asyncio
import json
import subprocess
import sys

import httpx
import pytest
import redis
from channels.db import database_sync_to_async
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect

from accounts.ws.revocation import auth_group
from game.events import leaderboards_group, user_group
from game.leaderboards.boards import NAMES_KEY, board_key
from game.models import Activity
from game.services import xp_award
from llm import streams
from llm.events import run_alive_key, run_stream_key
from tests.game.test_two_processes import recv_type
from tests.llm.test_playground_processes import MODEL, open_playground, recv, resumed_elsewhere, server_env
from tests.support.processes import REPO_ROOT, celery_worker, child_env
from tests.support.redis_server import redis_server

pytestmark = pytest.mark.processes


@pytest.fixture
def redis_pair(log_dir):
    with redis_server(log_dir) as first, redis_server(log_dir) as second:
        yield first, second


def split_env(first, second) -> dict[str, str]:
    """The channel layer sharded over both servers; the other roles each on a database of their own."""
    return {
        "REDIS_URL": first.url(9),
        "CHANNEL_LAYER_REDIS_URLS": f"{first.url(0)},{second.url(0)}",
        "CACHE_REDIS_URL": first.url(1),
        "LEADERBOARD_REDIS_URL": second.url(1),
        "STREAMS_REDIS_URL": second.url(2),
        "CELERY_BROKER_URL": second.url(3),
    }


PROBE_GROUPS = [f"probe.{name}" for name in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")]
# One write per role, in a process configured like a server.
PROBE = f"""
import asyncio, django
django.setup()
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.utils import timezone
from config.celery import app
from game.leaderboards.writes import leaderboard_write
from llm import streams

cache.set("probe", 1)
leaderboard_write(user_id="u1", username="probe", scores={{"all-time": (5, 1)}}, moment=timezone.now())
app.send_task("probe.task")


async def main():
    await streams.mark_alive(["r1"])
    layer = get_channel_layer()
    for group in {PROBE_GROUPS!r}:
        await layer.group_add(group, "probe.member")


asyncio.run(main())
"""


def test_each_role_writes_to_the_redis_its_variable_names(redis_pair):
    first, second = redis_pair
    env = child_env(**split_env(first, second), CELERY_TASK_ALWAYS_EAGER="false")

    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert first.keys(9) == []
    assert first.keys(1) == ["pc:1:probe"]
    assert second.keys(1) == sorted([board_key("all-time", timezone.now()), NAMES_KEY])
    assert second.keys(2) == [run_alive_key("r1")]
    assert "celery" in second.keys(3)
    # The layer's groups spread over both shards, each group on one of them.
    shards = [first.keys(0), second.keys(0)]
    assert all(shards)
    assert sorted(shards[0] + shards[1]) == [f"asgi:group:{group}" for group in PROBE_GROUPS]


@pytest.mark.django_db(transaction=True)
async def test_an_award_and_a_run_heartbeat_go_to_their_roles_redis_read_at_call_time(make_user, redis_pair, settings):
    _, second = redis_pair
    settings.LEADERBOARD_REDIS_URL, settings.STREAMS_REDIS_URL = second.url(1), second.url(2)
    alice = await database_sync_to_async(make_user)("alice")

    await database_sync_to_async(xp_award)(user_id=alice.pk, amount=10, reason="bonus", idempotency_key="k")
    await streams.mark_alive(["r1"])

    now = timezone.now()
    assert {NAMES_KEY, *(board_key(board, now) for board in ("all-time", "weekly", "monthly"))} <= set(second.keys(1))
    assert second.keys(2) == [run_alive_key("r1")]
    with redis.Redis.from_url(settings.REDIS_URL, decode_responses=True) as default:
        assert (default.keys("lb:*"), default.keys("llm:*")) == ([], [])


async def auth(ws, user) -> None:
    await ws.send(json.dumps({"type": "auth", "token": str(AccessToken.for_user(user))}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "auth.ok"


@pytest.mark.django_db(transaction=True)
async def test_events_and_widgets_reach_the_other_process_over_a_sharded_channel_layer(daphne, make_user, redis_pair):
    first, second = redis_pair
    staff = await database_sync_to_async(make_user)("staff", is_staff=True)
    alice = await database_sync_to_async(make_user)("alice")
    writer, reader = daphne(**split_env(first, second)), daphne(**split_env(first, second))

    async with (
        connect(f"{reader.ws_url}/ws/events/") as events,
        connect(f"{reader.ws_url}/ws/leaderboard/all-time/?size=5") as widget,
    ):
        await auth(events, alice)
        assert json.loads(await asyncio.wait_for(widget.recv(), 10))["type"] == "leaderboard.snapshot"
        # Each of the sockets' groups on one shard of the layer, none on REDIS_URL.
        groups = {f"asgi:group:{name}" for name in (user_group(alice.pk), auth_group(alice.pk), leaderboards_group())}
        on_first, on_second = set(first.keys(0)) & groups, set(second.keys(0)) & groups
        assert (on_first | on_second, on_first & on_second) == (groups, set())

        async with httpx.AsyncClient(base_url=writer.http_url) as http:
            response = await http.post(
                "/api/v1/game/awards/",
                json={"user": str(alice.pk), "amount": 40, "reason": "contest.win", "idempotency_key": "e2e"},
                headers={"Authorization": f"Bearer {AccessToken.for_user(staff)}"},
            )
        assert response.status_code == 201, response.text

        assert await recv_type(events, "xp.awarded") == {
            "type": "xp.awarded",
            "amount": 40,
            "reason": "contest.win",
            "total_xp": 40,
            "level": 1,
        }
        update = await recv_type(widget, "leaderboard.update")
        assert update["entries"][0] == {
            "rank": 1,
            "user": {"id": str(alice.pk), "username": "alice", "avatar_url": None},
            "score": 40,
        }

    assert board_key("all-time", timezone.now()) in second.keys(1)
    assert not [key for key in first.keys(1) if key.startswith("lb:")]
    assert first.keys(9) == []
    for server in (writer, reader):
        assert "Traceback" not in server.log()


@pytest.mark.django_db(transaction=True)
async def test_a_run_started_on_one_process_resumes_on_the_other_from_the_streams_redis(
    user,
    daphne,
    fake_openai,
    redis_pair,
):
    first, second = redis_pair
    tokens = [f"w{i} " for i in range(30)]
    fake_openai.script(tokens=tokens, delay=0.08)
    env = {**server_env(fake_openai), **split_env(first, second)}
    first_server, second_server = daphne(**env), daphne(**env)

    run_id, seen, rest = await resumed_elsewhere(first_server, second_server, user)

    token_frames = [f for f in seen + rest if f["type"] == "run.token"]
    assert [f["seq"] for f in token_frames] == list(range(len(token_frames)))
    assert (rest[-1]["type"], rest[-1]["output"]) == ("run.completed", "".join(tokens))
    assert run_stream_key(run_id) in second.keys(2)
    assert run_stream_key(run_id) not in first.keys(1) + second.keys(1)
    assert first.keys(9) == []


@pytest.mark.django_db(transaction=True)
async def test_a_users_request_limit_is_counted_once_across_both_processes(user, daphne, redis_pair):
    first, second = redis_pair
    env = {**split_env(first, second), "THROTTLE_USER": "5/day"}
    one, other = daphne(**env), daphne(**env)
    headers = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}

    statuses = []
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        for server in (one, other, one, other, one, other, one):
            statuses.append((await http.get(f"{server.http_url}/api/v1/auth/me/")).status_code)

    assert statuses == [200, 200, 200, 200, 200, 429, 429]
    assert [key for key in first.keys(1) if "throttle_user" in key] != []
    assert first.keys(9) == []


@pytest.mark.django_db(transaction=True)
async def test_a_completed_run_reaches_a_worker_through_the_brokers_redis(
    user, daphne, fake_openai, redis_pair, log_dir
):
    first, second = redis_pair
    fake_openai.script(tokens=["Hi", "!"])
    env = {**server_env(fake_openai), **split_env(first, second)}
    with celery_worker(log_dir, **env):
        server = daphne(**env, CELERY_TASK_ALWAYS_EAGER="false")
        ws = await open_playground(server, user)
        try:
            await ws.send(json.dumps({"type": "run.start", "model": MODEL, "prompt": "Hello"}))
            run_id = (await recv(ws))["run_id"]
            frames = [await recv(ws)]
            while frames[-1]["type"] == "run.token":
                frames.append(await recv(ws))
        finally:
            await ws.close()

        completed = Activity.objects.filter(user=user, activity="run.completed").values_list(
            "idempotency_key", flat=True
        )
        for _ in range(100):
            recorded = await database_sync_to_async(list)(completed.all())
            if recorded:
                break
            await asyncio.sleep(0.1)

    assert frames[-1]["type"] == "run.completed"
    assert recorded == [f"run:{run_id}"]
    assert [key for key in second.keys(3) if key.startswith("_kombu.binding.")] != []
    assert first.keys(9) == []
