"""Soak (run by hand): a steady mix of REST calls, streamed runs, leaderboard widgets and graded
attempts against two real daphne processes and a Celery worker, for minutes, watching for leaks.

    nice .venv/bin/python bench/soak.py [--minutes 10] [--warmup 120]

The mix, all at a modest steady rate (a soak, not a load test): REST workers creating, reading,
editing and rendering templates and reading profiles, boards, run histories and challenges; a staff
client awarding XP over REST (the widgets' updates); playground sockets streaming runs from the
fake OpenAI server, reconnecting now and then; leaderboard widgets on both processes, half of them
replaced every 30 s; learners making graded attempts of 10 cases. Every ~10 s it samples each
server process's RSS, the database's connections (pg_stat_activity) and the Redis clients on its
database (CLIENT LIST), and prints a table at the end. Checks: no error of any kind (a 5xx or an
unexpected status, an `error` or failed frame, a timeout, a dropped socket); every server's RSS at
the end within RSS_GROWTH_MAX of its first sample after the warm-up; connections steady (the mean
of the last third of the samples no more than CONNECTIONS_SLACK above the first third's). Exits 1
when a check fails.

Needs PostgreSQL and Redis: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/pc_soak_bench,
created, migrated and flushed here) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/6, flushed). Starts
and always stops the fake OpenAI server, the daphne processes and the worker, all on loopback.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pc_soak_bench")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")

from bench import challenges_attempts as attempts_bench  # noqa: E402
from bench import llm_streaming as streaming  # noqa: E402
from bench.ws_client import connect as widget_connect  # noqa: E402

SERVERS = 2
REST_WORKERS = 4
STREAMERS = 6
WIDGETS_PER_SERVER = 50
ATTEMPTERS = 2
SAMPLE_SECONDS = 10.0
RSS_GROWTH_MAX = 1.25
# Pools grow to the peak concurrency they meet (widget churn, attempts at once): a few more is not a leak.
CONNECTIONS_SLACK = 5.0
RUN_MODEL = "openai:gpt-4o-mini"
TOKENS = [f" w{i}" for i in range(30)]
TOKEN_DELAY = 0.02
SERVER_ENV = {"LLM_MAX_CONCURRENT_RUNS": "10", "CHALLENGES_ATTEMPT_PARALLEL": "10", "THROTTLE_USER": "10000000/hour"}
BOARDS = ("all-time", "weekly")


class Stats:
    """Operation counts (total and since the last sample) and the errors, the first few kept."""

    def __init__(self) -> None:
        self.ops: Counter[str] = Counter()
        self.window: Counter[str] = Counter()
        self.errors = 0
        self.examples: list[str] = []

    def op(self, name: str) -> None:
        self.ops[name] += 1
        self.window[name] += 1

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.examples) < 20:
            self.examples.append(f"{time.strftime('%H:%M:%S')} {what}"[:300])

    def take_window(self) -> Counter[str]:
        window, self.window = self.window, Counter()
        return window


# --- processes --------------------------------------------------------------------------------


def server_env(fake_port: int) -> dict[str, str]:
    return {
        **os.environ,
        **streaming.BASE_ENV,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "OPENAI_API_KEY": "sk-bench",
        **SERVER_ENV,
    }


def start_daphne(index: int, fake_port: int) -> tuple[subprocess.Popen, int]:
    port = streaming.free_port()
    proc = subprocess.Popen(
        [streaming.PYTHON, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=REPO,
        env=server_env(fake_port),
        stdout=subprocess.DEVNULL,
        stderr=open(f"/tmp/bench_soak_daphne{index}.log", "w"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
            return proc, port
        time.sleep(0.2)
    streaming.stop(proc)
    raise RuntimeError("daphne did not start")


def start_worker(fake_port: int) -> subprocess.Popen:
    log_path = Path("/tmp/bench_soak_worker.log")
    proc = subprocess.Popen(
        [streaming.PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=REPO,
        env={**server_env(fake_port), "CELERY_TASK_ALWAYS_EAGER": "false"},
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "w"),  # noqa: SIM115
    )
    time.sleep(3)
    if proc.poll() is not None:
        raise RuntimeError("celery worker did not start:\n" + log_path.read_text())
    return proc


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def database_connections() -> int:
    import psycopg

    name = streaming.DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(streaming.DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        # Not this sampler's own connection: it is to another database.
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()[0]


def redis_clients() -> tuple[int, int]:
    """(clients on the benchmark's Redis database, connected_clients of the whole server)."""
    import redis

    url = streaming.REDIS_URL
    db = int(url.rsplit("/", 1)[1] or 0)
    client = redis.Redis.from_url(url)
    try:
        ours = sum(1 for entry in client.client_list() if int(entry.get("db", -1)) == db) - 1  # less this one
        return ours, int(client.info("clients")["connected_clients"]) - 1
    finally:
        client.close()


# --- setup (the database side, this process, before the loop starts) ---------------------------


def prepare(tag: str) -> dict:
    attempts_bench.prepare_database()
    attempts_bench.django_setup()
    import redis
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User

    # A fresh start: the widgets' boards show this run's learners, whose awards move them.
    call_command("flush", interactive=False, verbosity=0)
    redis.Redis.from_url(streaming.REDIS_URL).flushdb()
    challenge = attempts_bench.make_challenge(tag)
    learners = attempts_bench.make_learners(tag, REST_WORKERS + STREAMERS + ATTEMPTERS, balance=10_000_000)
    staff = User.objects.create(username=f"staff{tag}", email=f"staff{tag}@example.com", is_staff=True)
    return {
        "slug": challenge.slug,
        "learners": learners,
        "staff_token": str(RefreshToken.for_user(staff).access_token),
    }


# --- the workloads ----------------------------------------------------------------------------


async def rest_worker(n: int, port: int, token: str, slug: str, stats: Stats, stop: asyncio.Event) -> None:
    import httpx

    rng = random.Random(n)
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    templates: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def call(name: str, method: str, path: str, expect: int, **kwargs):
            try:
                response = await client.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                stats.error(f"{name}: {type(exc).__name__} {exc}")
                return None
            if response.status_code != expect:
                stats.error(f"{name}: {response.status_code} {response.text[:120]}")
                return None
            stats.op("rest")
            return response

        for i in itertools.count():
            if stop.is_set():
                return
            choice = rng.random()
            if choice < 0.15 or not templates:
                body = {"title": f"Soak {n}-{i}", "content": "Hello {{name}}, about {{topic}}.", "tags": ["soak"]}
                response = await call("template.create", "POST", "/templates/", 201, json=body)
                if response is not None:
                    templates.append(response.json()["id"])
                    del templates[:-20]  # the newest few are the ones edited and read
            elif choice < 0.30:
                await call("template.read", "GET", f"/templates/{rng.choice(templates)}/", 200)
            elif choice < 0.40:
                body = {"content": f"Hi {{{{name}}}}, revision {i} about {{{{topic}}}}."}
                await call("template.edit", "PATCH", f"/templates/{rng.choice(templates)}/", 200, json=body)
            elif choice < 0.50:
                body = {"variables": {"name": "Ada", "topic": "soak"}}
                await call("template.render", "POST", f"/templates/{rng.choice(templates)}/render/", 200, json=body)
            elif choice < 0.60:
                await call("template.list", "GET", "/templates/?owner=me", 200)
            elif choice < 0.70:
                await call("profile", "GET", "/game/profile/", 200)
            elif choice < 0.80:
                await call("leaderboard", "GET", "/game/leaderboard/?board=all-time&around=me", 200)
            elif choice < 0.88:
                await call("runs", "GET", "/llm/runs/", 200)
            elif choice < 0.95:
                await call("challenges", "GET", "/challenges/", 200)
            else:
                await call("challenge", "GET", f"/challenges/{slug}/", 200)
            await asyncio.sleep(0.1)


async def awarder(port: int, token: str, user_ids: list[str], stats: Stats, stop: asyncio.Event) -> None:
    import httpx

    rng = random.Random(7)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers, timeout=30) as client:
        while not stop.is_set():
            body = {"user": rng.choice(user_ids), "amount": rng.randint(1, 50), "idempotency_key": uuid.uuid4().hex}
            try:
                response = await client.post("/game/awards/", json=body)
                if response.status_code == 201:
                    stats.op("award")
                else:
                    stats.error(f"award: {response.status_code} {response.text[:120]}")
            except httpx.HTTPError as exc:
                stats.error(f"award: {type(exc).__name__} {exc}")
            await asyncio.sleep(0.5)


async def streamer(n: int, ports: list[int], token: str, stats: Stats, stop: asyncio.Event) -> None:
    """Runs one after another on a playground socket; a new socket (other server) every 20 runs."""
    for round_ in itertools.count():
        if stop.is_set():
            return
        try:
            ws = await attempts_bench.connect(ports[(n + round_) % len(ports)], token)
        except (OSError, AssertionError, TimeoutError) as exc:
            stats.error(f"playground connect: {type(exc).__name__} {exc}")
            await asyncio.sleep(1)
            continue
        ws.end_markers = attempts_bench.RUN_ENDS + attempts_bench.ERRORS
        try:
            for i in range(20):
                if stop.is_set():
                    break
                ws.messages.clear()
                ws.ends = 0
                message = {"type": "run.start", "request_id": f"s{i}", "model": RUN_MODEL, "prompt": "Count for me"}
                ws.send_text(json.dumps(message))
                try:
                    await ws.until(1, 60)
                except TimeoutError:
                    stats.error("run: no end within 60 s")
                    break
                last = json.loads(ws.messages[-1][1])
                if last["type"] == "run.completed":
                    stats.op("run")
                else:
                    stats.error(f"run: {json.dumps(last)[:160]}")
                await asyncio.sleep(0.3)
        finally:
            await ws.close()


async def attempter(n: int, ports: list[int], token: str, slug: str, stats: Stats, stop: asyncio.Event) -> None:
    ws = await attempts_bench.connect(ports[n % len(ports)], token)
    ws.end_markers = attempts_bench.ENDS + attempts_bench.ERRORS
    try:
        for i in itertools.count():
            if stop.is_set():
                return
            ws.messages.clear()
            ws.ends = 0
            prompt = attempts_bench.PROMPT
            message = {"type": "attempt.start", "request_id": f"a{i}", "challenge": slug, "prompt": prompt}
            ws.send_text(json.dumps(message))
            try:
                await ws.until(1, 120)
            except TimeoutError:
                stats.error("attempt: no end within 120 s")
                return
            last = json.loads(ws.messages[-1][1])
            if last["type"] == "attempt.completed":
                stats.op("attempt")
            else:
                stats.error(f"attempt: {json.dumps(last)[:160]}")
            await asyncio.sleep(2)
    finally:
        await ws.close()


async def widgets(ports: list[int], stats: Stats, stop: asyncio.Event) -> None:
    """Widgets on every server and board, opened ten at a time; every 30 s half of them are replaced."""

    async def open_one(port: int, board: str):
        try:
            ws = await widget_connect(f"ws://127.0.0.1:{port}/ws/leaderboard/{board}/")
            snapshot = json.loads(await asyncio.wait_for(ws.next_message(), 30))
        except (OSError, TimeoutError) as exc:
            stats.error(f"widget open: {type(exc).__name__} {exc}")
            return None
        if snapshot.get("type") != "leaderboard.snapshot":
            stats.error(f"widget: {json.dumps(snapshot)[:160]}")
        stats.op("widget.open")
        return ws

    async def open_slots(indexes: list[int]) -> None:
        for start in range(0, len(indexes), 10):
            batch = indexes[start : start + 10]
            for i, ws in zip(batch, await asyncio.gather(*(open_one(*slots[i]) for i in batch)), strict=True):
                open_[i] = ws

    def received() -> int:
        return sum(len(ws.times) for ws in open_ if ws is not None)

    slots = [(port, BOARDS[i % len(BOARDS)]) for port in ports for i in range(WIDGETS_PER_SERVER)]
    open_: list = [None] * len(slots)
    await open_slots(list(range(len(slots))))
    seen = received()
    try:
        for turn in itertools.count():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 30)
            for ws in open_:
                if ws is not None and ws.closed.done():
                    stats.error("widget: the server closed a widget socket")
            updates = received()
            stats.window["widget.update"] += updates - seen
            stats.ops["widget.update"] += updates - seen
            if stop.is_set():
                return
            replaced = [i for i in range(len(slots)) if i % 2 == turn % 2 or open_[i] is None]
            await asyncio.gather(*(open_[i].close() for i in replaced if open_[i] is not None))
            await open_slots(replaced)
            seen = received()
    finally:
        await asyncio.gather(*(ws.close() for ws in open_ if ws is not None), return_exceptions=True)


async def sampler(pids: dict[str, int], stats: Stats, stop: asyncio.Event, started: float) -> list[dict]:
    samples = []
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
        pg = await asyncio.to_thread(database_connections)
        ours, server_wide = await asyncio.to_thread(redis_clients)
        window = stats.take_window()
        samples.append(
            {
                "t_s": round(time.monotonic() - started),
                "rss_mib": {name: round(rss_mib(pid), 1) for name, pid in pids.items()},
                "pg_connections": pg,
                "redis_clients": ours,
                "redis_clients_server": server_wide,
                "ops": dict(window),
                "errors": stats.errors,
            }
        )
        if stop.is_set():
            return samples


# --- the report ---------------------------------------------------------------------------------


def table(samples: list[dict], names: list[str]) -> str:
    head = ["t_s", *(f"rss {name}" for name in names), "pg", "redis", "rest", "runs", "attempts", "awards", "upd"]
    rows = [head]
    for s in samples:
        ops = s["ops"]
        rows.append(
            [
                str(s["t_s"]),
                *(f"{s['rss_mib'][name]:.1f}" for name in names),
                str(s["pg_connections"]),
                str(s["redis_clients"]),
                *(str(ops.get(key, 0)) for key in ("rest", "run", "attempt", "award", "widget.update")),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def checks(samples: list[dict], warmup: float, stats: Stats) -> dict:
    after = [s for s in samples if s["t_s"] >= warmup] or samples
    third = max(1, len(after) // 3)
    first, last = after[0], after[-1]
    rss_ratio = {name: round(last["rss_mib"][name] / first["rss_mib"][name], 3) for name in first["rss_mib"]}

    def trend(key: str) -> dict:
        early = statistics.mean(s[key] for s in after[:third])
        late = statistics.mean(s[key] for s in after[-third:])
        peak = max(s[key] for s in after)
        return {"first_third_mean": round(early, 1), "last_third_mean": round(late, 1), "max": peak}

    pg, rd = trend("pg_connections"), trend("redis_clients")
    result = {
        "errors": stats.errors,
        "rss_end_over_start": rss_ratio,
        "pg_connections": pg,
        "redis_clients": rd,
        "passed": {
            "no_errors": stats.errors == 0,
            "every_workload_ran": all(stats.ops[k] > 0 for k in ("rest", "run", "attempt", "award", "widget.update")),
            "rss_bounded": all(ratio <= RSS_GROWTH_MAX for ratio in rss_ratio.values()),
            "pg_connections_steady": pg["last_third_mean"] <= pg["first_third_mean"] + CONNECTIONS_SLACK,
            "redis_clients_steady": rd["last_third_mean"] <= rd["first_third_mean"] + CONNECTIONS_SLACK,
        },
    }
    result["ok"] = all(result["passed"].values())
    return result


async def soak(setup: dict, ports: list[int], pids: dict[str, int], minutes: float) -> tuple[list[dict], Stats]:
    stats, stop = Stats(), asyncio.Event()
    learners = setup["learners"]
    rest_learners = learners[:REST_WORKERS]
    stream_learners = learners[REST_WORKERS : REST_WORKERS + STREAMERS]
    attempt_learners = learners[REST_WORKERS + STREAMERS :]
    started = time.monotonic()
    sampling = asyncio.create_task(sampler(pids, stats, stop, started))
    tasks = [
        *(
            rest_worker(n, ports[n % len(ports)], token, setup["slug"], stats, stop)
            for n, (_, token) in enumerate(rest_learners)
        ),
        awarder(ports[0], setup["staff_token"], [user_id for user_id, _ in learners], stats, stop),
        *(streamer(n, ports, token, stats, stop) for n, (_, token) in enumerate(stream_learners)),
        *(attempter(n, ports, token, setup["slug"], stats, stop) for n, (_, token) in enumerate(attempt_learners)),
        widgets(ports, stats, stop),
    ]
    running = [asyncio.create_task(task) for task in tasks]
    await asyncio.sleep(minutes * 60)
    stop.set()
    for outcome in await asyncio.gather(*running, return_exceptions=True):
        if isinstance(outcome, BaseException):
            stats.error(f"workload died: {type(outcome).__name__} {outcome}")
    return await sampling, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=120.0, help="seconds before the first sample that counts")
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:6]
    setup = prepare(tag)
    fake, fake_port = streaming.start_fake()
    servers: list[subprocess.Popen] = []
    worker = None
    try:
        streaming.fake_control(fake_port, "script", {"tokens": TOKENS, "delay": TOKEN_DELAY})
        ports = []
        for index in range(SERVERS):
            proc, port = start_daphne(index, fake_port)
            servers.append(proc)
            ports.append(port)
        worker = start_worker(fake_port)
        pids = {f"daphne{i}": proc.pid for i, proc in enumerate(servers)} | {"worker": worker.pid}
        samples, stats = asyncio.run(soak(setup, ports, pids, args.minutes))
    finally:
        for proc in [*servers, *([worker] if worker else []), fake]:
            streaming.stop(proc)

    print(table(samples, list(pids)))
    result = checks(samples, min(args.warmup, args.minutes * 60 / 3), stats)
    report = {
        "what": "soak: REST, streamed runs, widgets, graded attempts against two daphne processes and a worker",
        "minutes": args.minutes,
        "warmup_s": args.warmup,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "ops": dict(stats.ops),
        **result,
        "error_examples": stats.examples,
        "load_average_1m": os.getloadavg()[0],
    }
    print(json.dumps(report, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
