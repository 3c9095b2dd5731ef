"""Real server processes for end-to-end tests: started, awaited and always stopped by the test."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """DATABASE_URL of the database the tests are using (pytest-django's test_* database)."""
    db = connection.settings_dict
    if "postgresql" not in db["ENGINE"]:
        raise RuntimeError("process tests need PostgreSQL")
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def child_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process sharing this test's PostgreSQL database and Redis."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def _wait_http_ok(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class DaphneServer:
    def __init__(self, port: int, proc: subprocess.Popen, log_path: Path):
        self.port = port
        self.proc = proc
        self.log_path = log_path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def daphne_server(log_dir: Path, **env_overrides: str) -> Iterator[DaphneServer]:
    """A real daphne process serving config.asgi on a free loopback port."""
    port = free_port()
    log_path = log_dir / f"daphne-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=REPO_ROOT,
            env=child_env(**env_overrides),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = DaphneServer(port, proc, log_path)
    try:
        _wait_http_ok(f"{server.http_url}/healthz", proc, timeout=30)
        yield server
    finally:
        stop_process(proc)


@contextmanager
def celery_worker(log_dir: Path, **env_overrides: str) -> Iterator[subprocess.Popen]:
    """A real Celery worker on the test Redis broker (solo pool: one process to stop)."""
    log_path = log_dir / "celery-worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=REPO_ROOT,
            env=child_env(CELERY_TASK_ALWAYS_EAGER="false", **env_overrides),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while b"ready." not in log_path.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start:\n" + log_path.read_text(errors="replace"))
            time.sleep(0.2)
        yield proc
    finally:
        stop_process(proc)


def _postgresql_cluster(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    subprocess.run([*args, "-m", "fast"] if action == "stop" else args, check=True, capture_output=True, timeout=60)


@contextmanager
def postgresql_stopped() -> Iterator[None]:
    """The machine's PostgreSQL stopped for the block, and always started again after it."""
    _postgresql_cluster("stop")
    try:
        yield
    finally:
        _postgresql_cluster("start")
        deadline = time.monotonic() + 30
        while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError("PostgreSQL did not come back")
            time.sleep(0.2)
