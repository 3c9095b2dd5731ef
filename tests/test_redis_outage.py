"""Redis stopped, then paused (SIGSTOP), then back, under a real daphne process.

The server has a Redis of the test's own (tests.support.redis_server) and a real broker on it
(CELERY_TASK_ALWAYS_EAGER=false, no worker needed while it is away). What must hold: sign-in
answers 503 with Retry-After at once (its throttle fails closed), browsing keeps working (the
general throttles fail open, boards fall back to SQL), a run completes and is charged once, its
XP is awarded although the broker could not take the task, and all of it recovers with Redis.
"""

import asyncio
import json
import signal

import httpx
import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect

from game.models import XPEvent
from llm.models import LLMRun
from tests.fakes.fixtures import fake_openai  # noqa: F401
from tests.llm.runs_support import access_token, run_ledger, set_credits
from tests.llm.test_playground_processes import MODEL, server_env
from tests.support.processes import celery_worker
from tests.support.redis_server import redis_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

PASSWORD = "Str0ng-pass-phrase!"
# Well above the server's own 1-2 s Redis timeouts: a request that hangs on Redis fails the test.
CLIENT_TIMEOUT = httpx.Timeout(4.0)
RUN_TIMEOUT = httpx.Timeout(30.0)
TOKENS = [f"word{i} " for i in range(40)]


@pytest.fixture
def private_redis(log_dir):
    with redis_server(log_dir) as server:
        yield server


@pytest.fixture
def server(daphne, private_redis, fake_openai, user):  # noqa: F811
    fake_openai.script(tokens=TOKENS)
    set_credits(user, 1000)
    return daphne(REDIS_URL=private_redis.url(), CELERY_TASK_ALWAYS_EAGER="false", **server_env(fake_openai))


def _login(server, user) -> httpx.Response:
    body = {"username_or_email": user.username, "password": PASSWORD}
    return httpx.post(f"{server.http_url}/api/v1/auth/login/", json=body, timeout=CLIENT_TIMEOUT)


def _get(server, user, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token(user)}"}
    return httpx.get(f"{server.http_url}{path}", headers=headers, timeout=CLIENT_TIMEOUT)


def _run(server, user) -> dict:
    headers = {"Authorization": f"Bearer {access_token(user)}"}
    body = {"model": MODEL, "prompt": "Count, please"}
    response = httpx.post(f"{server.http_url}/api/v1/llm/runs/", json=body, headers=headers, timeout=RUN_TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) > 0


def _assert_browsing_works(server, user) -> None:
    assert _get(server, user, "/api/v1/templates/").status_code == 200
    board = _get(server, user, "/api/v1/game/leaderboard/?board=all-time")
    assert board.status_code == 200


def _assert_charged_once_and_awarded(run: dict, user) -> None:
    assert run["status"] == "completed"
    assert "".join(TOKENS) == run["output"]
    ledger = run_ledger(run["id"])
    assert ledger["run.reserve"] + ledger.get("run.refund", 0) == -run["cost_credits"]
    assert LLMRun.objects.filter(user=user).count() == 1
    # The broker could not take the award: it ran in the server process instead of being lost.
    assert XPEvent.objects.filter(user=user, reason="run.completed").count() == 1


async def _events_socket_gets_an_award(server, user) -> None:
    """A fresh /ws/events/ socket works again: it hears an award made on the server."""
    async with connect(f"{server.ws_url}/ws/events/") as ws:
        await ws.send(json.dumps({"type": "auth", "token": await database_sync_to_async(access_token)(user)}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "auth.ok"
        await database_sync_to_async(_run)(server, user)
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if frame["type"] == "xp.awarded":
                return


def test_redis_stopped_then_back(server, private_redis, user):
    signed_in = _login(server, user)
    assert signed_in.status_code == 200

    private_redis.stop()
    _assert_unavailable(_login(server, user))
    # Signing out still works: the token is blacklisted in SQL; closing its sockets waits for Redis.
    headers = {"Authorization": f"Bearer {signed_in.json()['access']}"}
    body = {"refresh": signed_in.json()["refresh"]}
    logout = httpx.post(f"{server.http_url}/api/v1/auth/logout/", json=body, headers=headers, timeout=CLIENT_TIMEOUT)
    assert logout.status_code == 205, logout.text
    _assert_browsing_works(server, user)
    health = httpx.get(f"{server.http_url}/healthz", timeout=CLIENT_TIMEOUT)
    assert (health.status_code, health.json()["down"]) == (503, ["redis"])
    _assert_charged_once_and_awarded(_run(server, user), user)

    private_redis.start()
    assert _login(server, user).status_code == 200
    assert httpx.get(f"{server.http_url}/healthz", timeout=CLIENT_TIMEOUT).status_code == 200


def test_redis_paused_then_resumed(server, private_redis, user, log_dir):
    assert _login(server, user).status_code == 200

    private_redis.pause()
    _assert_unavailable(_login(server, user))
    _assert_browsing_works(server, user)
    _assert_charged_once_and_awarded(_run(server, user), user)

    private_redis.resume()
    assert _login(server, user).status_code == 200
    with celery_worker(log_dir, REDIS_URL=private_redis.url()):  # awards go through the broker again
        asyncio.run(_events_socket_gets_an_award(server, user))


def test_sigterm_with_redis_paused_settles_the_live_run_and_exits(server, private_redis, user, fake_openai):  # noqa: F811
    fake_openai.script(tokens=TOKENS, delay=0.2)
    headers = {"Authorization": f"Bearer {access_token(user)}", "Accept": "text/event-stream"}
    body = {"model": MODEL, "prompt": "Count, please"}
    with httpx.stream(
        "POST", f"{server.http_url}/api/v1/llm/runs/", json=body, headers=headers, timeout=RUN_TIMEOUT
    ) as response:
        lines = response.iter_lines()
        started = next(json.loads(line[6:]) for line in lines if line.startswith("data: "))
        private_redis.pause()
        server.proc.send_signal(signal.SIGTERM)
        # Exits by itself (a kill would be -9): no wait on the hung Redis holds the shutdown.
        assert server.proc.wait(timeout=30) == 0

    run = LLMRun.objects.get(pk=started["run_id"])
    assert (run.status, run.error_code) == ("failed", "interrupted")
    ledger = run_ledger(str(run.pk))
    assert ledger["run.reserve"] + ledger["run.refund"] == -run.cost_credits
