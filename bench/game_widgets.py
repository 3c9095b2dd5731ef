"""Game benchmark (run by hand): leaderboard widget fan-out, sustained awards, idle-socket memory,
and the leaderboard REST endpoint, each against a baseline measured in the same run.

    .venv/bin/python bench/game_widgets.py fanout  [--layer redis|pubsub] [--sockets 1000]
    .venv/bin/python bench/game_widgets.py sustained [--layer ...] [--rate 300] [--seconds 5]
    .venv/bin/python bench/game_widgets.py rss [--sockets 5000]
    .venv/bin/python bench/game_widgets.py rest [--users 100000] [--seconds 8]

Needs PostgreSQL and Redis: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/pc_game_bench,
created, migrated and flushed here) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/3, flushed).
Starts and always stops its daphne processes on loopback. Prints one JSON document.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.ws_client import WebSocket, connect  # noqa: E402

PYTHON = sys.executable
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pc_game_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
LAYERS = {
    "redis": "channels_redis.core.RedisChannelLayer",  # the default
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.dev",
    "DJANGO_DEBUG": "false",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "LOG_LEVEL": "WARNING",
    "JWT_ACCESS_SECONDS": "7200",
    "THROTTLE_USER": "1000000000/hour",
    "THROTTLE_ANON": "1000000000/hour",
    "CHANNEL_LAYER_PREFIX": "benchgame",
}
APP = "config.asgi:application"
BASELINE_APP = "bench.game_baseline_asgi:application"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary_ms(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 1), "p99_ms": round(pct(ms, 99), 1), "max_ms": round(max(ms), 1)}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# --- processes and Django ---------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(layer: str) -> None:
    os.environ.update(BASE_ENV, CHANNEL_LAYER_BACKEND=LAYERS[layer])
    import django
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=dict(os.environ), check=True)
    django.setup()
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@contextlib.contextmanager
def daphne(app: str, layer: str, count: int = 1):
    procs, ports = [], []
    env = {**os.environ, **BASE_ENV, "CHANNEL_LAYER_BACKEND": LAYERS[layer]}
    try:
        for _ in range(count):
            port = free_port()
            log = open(f"/tmp/bench_game_daphne_{port}.log", "w")  # noqa: SIM115
            procs.append(
                subprocess.Popen(
                    [PYTHON, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), app],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            ports.append(port)
        for port, proc in zip(ports, procs, strict=True):
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                    break
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"daphne on {port} did not start")
                time.sleep(0.2)
        yield procs, ports
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def make_players(n: int) -> list:
    from accounts.services import user_register

    return [
        user_register(
            username=f"bench{i}", email=f"bench{i}@example.com", password="bench-pass-123!", email_verified=True
        )
        for i in range(n)
    ]


# --- WebSocket clients --------------------------------------------------------------------------


async def open_sockets(urls: list[str], expect_snapshot: bool) -> list[WebSocket]:
    sockets: list[WebSocket] = []
    for start in range(0, len(urls), 100):
        batch = await asyncio.gather(*(connect(url) for url in urls[start : start + 100]))
        if expect_snapshot:
            await asyncio.gather(*(ws.next_message() for ws in batch))
        sockets.extend(batch)
    return sockets


class Arrivals:
    """When each socket receives each message, from now on (the sockets record it themselves: see
    bench/ws_client.py for why a reader task per socket would distort the figures)."""

    def __init__(self, sockets: list[WebSocket]) -> None:
        self.sockets = sockets
        for ws in sockets:
            ws.times.clear()
        self.times: list[list[float]] = [ws.times for ws in sockets]

    @property
    def last(self) -> list[str | None]:
        """Each widget's newest message (decoded here, not on arrival)."""
        return [ws.last for ws in self.sockets]

    def latencies(self, starts: list[float], window: float) -> tuple[list[float], list[float], int]:
        """Per award: time until the first and until the last socket got a frame after it; plus misses."""
        first, last, missing = [], [], 0
        for t0 in starts:
            firsts = []
            for times in self.times:
                got = next((t for t in times if t0 <= t < t0 + window), None)
                if got is None:
                    missing += 1
                else:
                    firsts.append(got)
            if firsts:
                first.append(min(firsts) - t0)
                last.append(max(firsts) - t0)
        return first, last, missing

    async def close(self, sockets: list[WebSocket]) -> None:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def latency_report(arrivals: Arrivals, starts: list[float], window: float) -> dict:
    first, last, missing = arrivals.latencies(starts, window)
    return {**summary_ms(last), "first_socket_p50_ms": summary_ms(first)["p50_ms"], "missing_updates": missing}


# --- fan-out latency: award commit -> last widget ------------------------------------------------


@contextlib.contextmanager
def floor_servers(count: int):
    procs, ports = [], []
    try:
        for _ in range(count):
            port = free_port()
            proc = subprocess.Popen(
                [PYTHON, str(REPO / "bench" / "game_ws_floor.py"), str(port), REDIS_URL],
                stdout=subprocess.PIPE,
                text=True,
            )
            procs.append(proc)
            ports.append(port)
            assert proc.stdout.readline().strip() == "ready"
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


async def fanout_interleaved(ours_ports, bare_ports, floor_ports, args) -> dict:
    """All three designs connected at once; their updates take turns, so they share the same load."""
    import redis.asyncio as aioredis
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer
    from django.db import close_old_connections, transaction

    from game.services import xp_award

    def award(user_id, amount: int, key: str) -> float:
        committed: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.perf_counter()))
            xp_award(user_id=user_id, amount=amount, reason="bench", idempotency_key=key)
        close_old_connections()
        return committed[0]

    n = args.sockets
    players = await sync_to_async(make_players)(12)
    ours_ws = await open_sockets(
        [f"ws://127.0.0.1:{ours_ports[i % 2]}/ws/leaderboard/all-time/" for i in range(n)], expect_snapshot=True
    )
    bare_ws = await open_sockets([f"ws://127.0.0.1:{bare_ports[i % 2]}/ws/bare/" for i in range(n)], False)
    floor_ws = await open_sockets([f"ws://127.0.0.1:{floor_ports[i % 2]}/" for i in range(n)], False)
    await asyncio.sleep(1)
    sets = {"ours": Arrivals(ours_ws), "bare": Arrivals(bare_ws), "floor": Arrivals(floor_ws)}
    starts: dict[str, list[float]] = {name: [] for name in sets}
    layer, publisher = get_channel_layer(), aioredis.Redis.from_url(REDIS_URL)
    text = json.dumps({"type": "leaderboard.update", "board": "all-time", "entries": []})
    scores = {p.pk: 0 for p in players}
    for i in range(args.awards):
        player = players[i % len(players)]
        amount = max(scores.values()) - scores[player.pk] + 1  # the player takes first place: every widget changes
        scores[player.pk] += amount
        starts["ours"].append(await asyncio.to_thread(award, player.pk, amount, f"f{i}"))
        await asyncio.sleep(args.gap)
        starts["bare"].append(time.perf_counter())
        await layer.group_send("bench.bare", {"type": "bench.update", "text": text})
        await asyncio.sleep(args.gap)
        starts["floor"].append(time.perf_counter())
        await publisher.publish("bench.floor", text)
        await asyncio.sleep(args.gap)
    reports = {name: latency_report(arrivals, starts[name], args.gap) for name, arrivals in sets.items()}
    for arrivals, sockets in zip(sets.values(), (ours_ws, bare_ws, floor_ws), strict=True):
        await arrivals.close(sockets)
    await publisher.aclose()
    return reports


def run_fanout(args) -> dict:
    setup_django(args.layer)
    with (
        daphne(APP, args.layer, 2) as (_, ours_ports),
        daphne(BASELINE_APP, args.layer, 2) as (_, bare_ports),
        floor_servers(2) as floor_ports,
    ):
        reports = asyncio.run(fanout_interleaved(ours_ports, bare_ports, floor_ports, args))
    ours, baseline, floor = reports["ours"], reports["bare"], reports["floor"]
    return {
        "what": "award commit -> last of N widget sockets (2 processes each) receiving the update; "
        "the three designs connected at once, updates taking turns",
        "ours": ours,
        "baseline_bare_consumer_group_send": baseline,
        "floor_plain_websockets_broadcast": floor,
        "ratio_p99_vs_baseline": round(ours["p99_ms"] / baseline["p99_ms"], 2),
        "ratio_p99_vs_floor": round(ours["p99_ms"] / floor["p99_ms"], 2),
        "target": "p99 <= 100 ms",
    }


# --- sustained awards ---------------------------------------------------------------------------


def run_awards(args) -> None:
    """Child of `sustained`: award at --rate for --seconds to the bench players, print the result."""
    os.environ.update(BASE_ENV, CHANNEL_LAYER_BACKEND=LAYERS[args.layer])
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    players = list(get_user_model().objects.filter(username__startswith="bench"))
    print(json.dumps(award_burst(players, args.rate, args.seconds, args.threads, prefix=f"p{args.offset}-")))


def award_burst(players: list, rate: float, seconds: float, threads: int, prefix: str = "") -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from game.services import xp_award

    total = int(rate * seconds)
    rng = random.Random(prefix)
    plan = [(rng.choice(players).pk, rng.randint(1, 50)) for _ in range(total)]
    begin = time.perf_counter()
    lag: list[float] = []

    def work(index: int) -> None:
        for n in range(index, total, threads):
            due = begin + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            user_id, amount = plan[n]
            xp_award(user_id=user_id, amount=amount, reason="bench", idempotency_key=f"{prefix}s{n}")
            lag.append(time.perf_counter() - due)
        connection.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    elapsed = time.perf_counter() - begin
    # Lag: how long after its scheduled moment each award finished. Keeping up with the rate
    # means a small, flat lag; falling behind makes it grow over the run.
    return {
        "awards": total,
        "seconds": round(elapsed, 2),
        "awards_per_s": round(total / elapsed, 1),
        "lag_ms": [round(pct(lag, 50) * 1000, 1), round(pct(lag, 99) * 1000, 1), round(max(lag) * 1000, 1)],
    }


async def sustained(ports: list[int], args) -> dict:
    from asgiref.sync import sync_to_async

    from game.leaderboards.reads import leaderboard_top

    await sync_to_async(make_players)(200)
    urls = [f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/leaderboard/all-time/" for i in range(args.sockets)]
    sockets = await open_sockets(urls, expect_snapshot=True)
    arrivals = Arrivals(sockets)
    # Awards come from their own processes (as from web workers), not from the process reading the sockets.
    procs = [
        await asyncio.create_subprocess_exec(
            PYTHON,
            __file__,
            "awards",
            "--layer",
            args.layer,
            "--rate",
            str(args.rate / args.procs),
            "--seconds",
            str(args.seconds),
            "--threads",
            str(args.threads),
            "--offset",
            str(n),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ},
        )
        for n in range(args.procs)
    ]
    parts = [json.loads((await proc.communicate())[0]) for proc in procs]
    result = {
        "awards": sum(p["awards"] for p in parts),
        "seconds": max(p["seconds"] for p in parts),
        "award_processes": args.procs,
    }
    result["awards_per_s"] = round(result["awards"] / result["seconds"], 1)
    # Per award process: [p50, p99, max] of finish time after the award's scheduled moment.
    result["lag_ms_p50_p99_max"] = [p["lag_ms"] for p in parts]
    await asyncio.sleep(1.5)
    final = [entry.as_entry() for entry in await sync_to_async(leaderboard_top)(board="all-time", limit=10)]
    counts = [len(t) for t in arrivals.times]
    current = sum(1 for last in arrivals.last if last and json.loads(last)["entries"] == final)
    await arrivals.close(sockets)
    if not counts:  # --sockets 0: the service's own capacity
        return result
    per_second = [c / result["seconds"] for c in counts]
    return {
        **result,
        "updates_per_widget": {"min": min(counts), "median": statistics.median(counts), "max": max(counts)},
        "max_updates_per_widget_per_s": round(max(per_second), 1),
        "widgets_showing_final_board": f"{current}/{len(sockets)}",
    }


def run_sustained(args) -> dict:
    setup_django(args.layer)
    with daphne(APP, args.layer, 2) as (_, ports):
        out = asyncio.run(sustained(ports, args))
    return {
        "what": f"{args.rate} awards/s through xp_award for {args.seconds}s, {args.sockets} widgets",
        **out,
        "target": ">= 200 awards/s on schedule with every widget still getting coalesced updates",
    }


# --- idle socket memory -------------------------------------------------------------------------


async def idle_rss(pid: int, url: str, n: int, snapshot: bool) -> float:
    warm = await open_sockets([url] * 50, expect_snapshot=snapshot)
    await asyncio.sleep(1)
    before = rss_kib(pid)
    sockets = await open_sockets([url] * n, expect_snapshot=snapshot)
    await asyncio.sleep(3)
    after = rss_kib(pid)
    await asyncio.gather(*(ws.close() for ws in sockets + warm), return_exceptions=True)
    return (after - before) / n


def run_rss(args) -> dict:
    setup_django(args.layer)
    with daphne(APP, args.layer) as (procs, ports):
        ours = asyncio.run(
            idle_rss(procs[0].pid, f"ws://127.0.0.1:{ports[0]}/ws/leaderboard/weekly/", args.sockets, True)
        )
    with daphne(BASELINE_APP, args.layer) as (procs, ports):
        bare = asyncio.run(idle_rss(procs[0].pid, f"ws://127.0.0.1:{ports[0]}/ws/idle/", args.sockets, False))
    return {
        "what": f"RSS growth per idle socket, {args.sockets} sockets on one daphne process",
        "ours_widget_kib_per_socket": round(ours, 1),
        "baseline_bare_consumer_kib_per_socket": round(bare, 1),
        "ratio": round(ours / bare, 2),
        "target": "<= 1.1x",
    }


# --- REST: leaderboard vs a trivial authenticated endpoint ----------------------------------------


def seed_ranked_users(n: int) -> str:
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    from game.leaderboards.rebuild import leaderboard_rebuild
    from game.models import PlayerStats

    User = get_user_model()
    rng = random.Random(7)
    batch = 5000
    for start in range(0, n, batch):
        users = [
            User(
                username=f"ranked{i}",
                email=f"ranked{i}@example.com",
                password="!",
                experience_points=rng.randint(1, 50000),
            )
            for i in range(start, min(start + batch, n))
        ]
        User.objects.bulk_create(users)
        PlayerStats.objects.bulk_create(
            [PlayerStats(user_id=u.pk, last_xp_event_id=start + j + 1) for j, u in enumerate(users)]
        )
    leaderboard_rebuild(boards=("all-time",))
    me = User.objects.get(username=f"ranked{n // 2}")
    return str(AccessToken.for_user(me))


async def hammer(port: int, path: str, token: str, seconds: float, concurrency: int) -> dict:
    import httpx

    done, errors = 0, 0
    stop_at = time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < stop_at:
                response = await client.get(path)
                if response.status_code == 200:
                    done += 1
                else:
                    errors += 1

        begin = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - begin
    return {"requests_per_s": round(done / elapsed, 1), "errors": errors}


def run_rest(args) -> dict:
    setup_django(args.layer)
    token = seed_ranked_users(args.users)
    trivial, board = "/api/v1/auth/me/", "/api/v1/game/leaderboard/?board=all-time&around=me"
    with daphne(APP, args.layer) as (_, ports):
        asyncio.run(hammer(ports[0], board, token, 1, 4))  # warm-up
        asyncio.run(hammer(ports[0], trivial, token, 1, 4))
        base = asyncio.run(hammer(ports[0], trivial, token, args.seconds, args.concurrency))
        ours = asyncio.run(hammer(ports[0], board, token, args.seconds, args.concurrency))
    return {
        "what": f"GET leaderboard top 10 + around me, {args.users} ranked users, one daphne process",
        "trivial_auth_me": base,
        "leaderboard": ours,
        "ratio": round(ours["requests_per_s"] / base["requests_per_s"], 2),
        "target": ">= 0.70",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["fanout", "sustained", "rss", "rest", "awards"])
    parser.add_argument("--layer", choices=sorted(LAYERS), default="redis")
    parser.add_argument("--sockets", type=int, default=None)
    parser.add_argument("--awards", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.4)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--procs", type=int, default=1, help="awarding processes (sustained)")
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.sockets is None:
        args.sockets = 5000 if args.what == "rss" else 1000
    if args.what == "awards":
        run_awards(args)
        return
    runner = {"fanout": run_fanout, "sustained": run_sustained, "rss": run_rss, "rest": run_rest}[args.what]
    result = runner(args)
    print(
        json.dumps(
            {
                "machine": f"{platform.node()} {os.cpu_count()} CPU, Python {platform.python_version()}",
                "command": " ".join(sys.argv),
                "layer": args.layer,
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
