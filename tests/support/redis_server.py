"""A Redis server of the test's own, to stop, pause and bring back without touching the shared one."""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.processes import free_port, stop_process


class RedisServer:
    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.paused = False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def keys(self, db: int) -> list[str]:
        """Every key of database `db`, sorted."""
        with redis.Redis(port=self.port, db=db, decode_responses=True) as client:
            return sorted(client.keys("*"))

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                    *("--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.log_path.parent)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log_text = self.log_path.read_text(errors="replace")
                    raise RuntimeError(f"redis-server did not start:\n{log_text}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """Gone: connections refused (its data goes with it)."""
        if self.proc is not None:
            self.resume()
            stop_process(self.proc)
            self.proc = None

    def pause(self) -> None:
        """Hung: connections are accepted by the kernel, nothing answers (SIGSTOP)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.proc is not None and self.paused:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.paused = False


@contextmanager
def redis_server(log_dir: Path) -> Iterator[RedisServer]:
    """A real, empty redis-server of the test's own on a free loopback port, kept in memory only;
    stopped (resumed first if paused) after the test."""
    port = free_port()
    server = RedisServer(port, log_dir / f"redis-{port}.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
