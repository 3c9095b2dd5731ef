"""LLM streaming benchmark (run by hand): one daphne process streaming `/ws/playground/` runs vs the
OpenAI SDK reading the same fake stream directly, plus the local model through the socket vs
llama-cpp-python directly.

    .venv/bin/python bench/llm_streaming.py [--quick]

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/pc_bench,
created and migrated here; BENCH_REDIS_URL, default redis://127.0.0.1:6379/5). Starts and always
stops a fake OpenAI server process and one daphne process on loopback. Prints one JSON document.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PYTHON = sys.executable
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pc_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
MODEL = "openai:gpt-4o-mini"
LOCAL_PROMPT = "Explain in a few sentences why the sky is blue."

BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.dev",
    "DJANGO_DEBUG": "false",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "LOG_LEVEL": "WARNING",
    "JWT_ACCESS_SECONDS": "7200",
    "THROTTLE_AI_REQUESTS": "10000000/hour",
    "LLM_MAX_CONCURRENT_RUNS": "100000",
    "LLM_RESUME_GRACE_SECONDS": "1",
    "LLM_READ_TIMEOUT_SECONDS": "30",
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, **BASE_ENV}
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        # Every run starts from no runs: a start counts its user's running runs.
        conn.execute("TRUNCATE llm_llmrun CASCADE")


def start_fake() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [PYTHON, "-m", "tests.fakes", "openai"], cwd=REPO, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    line = proc.stdout.readline()
    return proc, int(line.split()[1])


def start_daphne(
    fake_port: int, app: str = "config.asgi:application", extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        **BASE_ENV,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "OPENAI_API_KEY": "sk-bench",
        **(extra_env or {}),
    }
    proc = subprocess.Popen(
        [PYTHON, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), app],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(f"/tmp/bench_daphne_{app.partition(':')[0]}{'_against' if extra_env else ''}.log", "w"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
            return proc, port
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("daphne did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def fake_control(fake_port: int, path: str, payload: object) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{fake_port}/_fake/{path}",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


def bench_user_tokens(count: int) -> list[str]:
    """Access tokens of `count` benchmark users, each with a balance that never runs out."""
    os.environ.update(BASE_ENV)
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User

    tokens = []
    for n in range(count):
        username = "bench" if n == 0 else f"bench{n}"
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        User.objects.filter(pk=user.pk).update(credits=1_000_000_000, email_verified=True)
        tokens.append(str(RefreshToken.for_user(user).access_token))
    return tokens


# --- WebSocket client -----------------------------------------------------------------------


class Playground:
    def __init__(self, port: int, token: str):
        self.port = port
        self.token = token
        self.ws = None
        self.n = 0

    async def __aenter__(self) -> "Playground":
        import websockets

        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws/playground/",
            origin=f"http://127.0.0.1:{self.port}",
            max_size=None,
            ping_interval=None,
        )
        await self.ws.send(json.dumps({"type": "auth", "token": self.token}))
        reply = json.loads(await self.ws.recv())
        assert reply["type"] == "auth.ok", reply
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def run(self, model: str, prompt: str, params: dict | None = None) -> dict:
        """One run: send run.start, then collect frame arrival times until the terminal frame."""
        self.n += 1
        message = {"type": "run.start", "request_id": f"r{self.n}", "model": model, "prompt": prompt}
        if params:
            message["params"] = params
        sent = time.perf_counter()
        await self.ws.send(json.dumps(message))
        token_times: list[float] = []
        started = None
        while True:
            frame = json.loads(await self.ws.recv())
            kind = frame["type"]
            if kind == "run.started":
                started = time.perf_counter()
            elif kind == "run.token":
                token_times.append(time.perf_counter())
            elif kind in ("run.completed", "run.failed", "run.cancelled"):
                end = time.perf_counter()
                return {"sent": sent, "started": started, "end": end, "token_times": token_times, "final": frame}
            elif kind == "error":
                raise RuntimeError(frame)


# --- phases -----------------------------------------------------------------------------------


async def sdk_stream(client, prompt: str) -> tuple[float, int]:
    """The SDK's own parsed stream: (seconds to first content, chunks)."""
    sent = time.perf_counter()
    first = None
    chunks = 0
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=512,
    )
    async for chunk in stream:
        chunks += 1
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - sent
    return first, chunks


async def echo_round_trip(ws) -> float:
    """Seconds for one frame to the baseline echo consumer and back."""
    sent = time.perf_counter()
    await ws.send('{"ping":1}')
    await ws.recv()
    return time.perf_counter() - sent


async def bare_consumer_ttft(ws, prompt: str) -> float:
    """Seconds to the first content frame of the baseline's bare SDK consumer (read to the end)."""
    sent = time.perf_counter()
    await ws.send(json.dumps({"prompt": prompt}))
    first = None
    while True:
        frame = json.loads(await ws.recv())
        if first is None:
            first = time.perf_counter() - sent
        if frame.get("done"):
            return first


async def phase_ttft(port: int, token: str, fake_port: int, sdk, rounds: int, base_port: int) -> dict:
    """Rounds of a playground run then the SDK alone; then, apart (their traffic between runs would
    change what the runs find), rounds of the baseline app's echo, its bare SDK consumer and the SDK."""
    import websockets

    fake_control(fake_port, "script", {"tokens": [f" w{i}" for i in range(20)], "delay": 0})
    ws_ttft, sdk_ttft, ws_accept, ws_stream, echo_rtt, bare_ttft, bare_sdk_ttft = [], [], [], [], [], [], []
    base = f"ws://127.0.0.1:{base_port}/ws"
    async with (
        Playground(port, token) as pg,
        websockets.connect(f"{base}/echo/", ping_interval=None) as echo,
        websockets.connect(f"{base}/sdk/", ping_interval=None) as bare,
    ):
        for _ in range(10):  # warm-up: connections, code paths
            await pg.run(MODEL, "warm up", {"max_tokens": 64})
            await sdk_stream(sdk, "warm up")
            await echo_round_trip(echo)
            await bare_consumer_ttft(bare, "warm up")
        for _ in range(rounds):
            result = await pg.run(MODEL, "Say something", {"max_tokens": 64})
            assert result["final"]["type"] == "run.completed", result["final"]
            ws_ttft.append((result["token_times"][0] - result["sent"]) * 1000)
            ws_accept.append((result["started"] - result["sent"]) * 1000)
            ws_stream.append((result["token_times"][0] - result["started"]) * 1000)
            first, _ = await sdk_stream(sdk, "Say something")
            sdk_ttft.append(first * 1000)
        for _ in range(rounds):
            echo_rtt.append(await echo_round_trip(echo) * 1000)
            bare_ttft.append(await bare_consumer_ttft(bare, "Say something") * 1000)
            first, _ = await sdk_stream(sdk, "Say something")
            bare_sdk_ttft.append(first * 1000)
    return {
        "rounds": rounds,
        "ws_ttft_ms": {"p50": pct(ws_ttft, 50), "p99": pct(ws_ttft, 99)},
        "sdk_ttft_ms": {"p50": pct(sdk_ttft, 50), "p99": pct(sdk_ttft, 99)},
        # The same machine's yardsticks: a daphne echo round trip, and the naive consumer's added time.
        "echo_round_trip_ms": {"p50": pct(echo_rtt, 50), "p99": pct(echo_rtt, 99)},
        "bare_consumer_added_ttft_ms": {
            "p50": pct(bare_ttft, 50) - pct(bare_sdk_ttft, 50),
            "p99": pct(bare_ttft, 99) - pct(bare_sdk_ttft, 99),
        },
        # Where the socket's time goes: run.start → run.started (throttle, validation, credit
        # reservation in PostgreSQL), then run.started → first run.token (provider and streaming).
        "ws_start_to_started_ms": {"p50": pct(ws_accept, 50), "p99": pct(ws_accept, 99)},
        "ws_started_to_first_token_ms": {"p50": pct(ws_stream, 50), "p99": pct(ws_stream, 99)},
        "added_ttft_ms": {"p50": pct(ws_ttft, 50) - pct(sdk_ttft, 50), "p99": pct(ws_ttft, 99) - pct(sdk_ttft, 99)},
    }


async def phase_cpu(port: int, token: str, fake_port: int, sdk, daphne_pid: int, runs: int, tokens: int) -> dict:
    fake_control(fake_port, "script", {"tokens": [f" w{i}" for i in range(tokens)], "delay": 0})
    async with Playground(port, token) as pg:
        await pg.run(MODEL, "warm up", {"max_tokens": tokens})
        frames = 0
        before = proc_cpu_seconds(daphne_pid)
        for _ in range(runs):
            result = await pg.run(MODEL, "Stream a lot", {"max_tokens": tokens})
            assert result["final"]["usage"]["output_tokens"] == tokens, result["final"]
            frames += len(result["token_times"])
        server_cpu = proc_cpu_seconds(daphne_pid) - before
    await sdk_stream(sdk, "warm up")
    before = self_cpu_seconds()
    chunks = 0
    for _ in range(runs):
        _, n = await sdk_stream(sdk, "Stream a lot")
        chunks += n
    sdk_cpu = self_cpu_seconds() - before
    provider_cpu = await provider_cpu_seconds(fake_port, runs, tokens)
    server_us = server_cpu / (runs * tokens) * 1e6
    sdk_us = sdk_cpu / (runs * tokens) * 1e6
    return {
        "runs": runs,
        "tokens_per_run": tokens,
        "ws_frames_per_run": frames / runs,
        "server_cpu_us_per_token": server_us,
        "sdk_cpu_us_per_token": sdk_us,
        "sdk_chunks_per_run": chunks / runs,
        "provider_alone_cpu_us_per_token": provider_cpu / (runs * tokens) * 1e6,
        "ratio": server_us / sdk_us,
    }


async def provider_cpu_seconds(fake_port: int, runs: int, tokens: int) -> float:
    """CPU of llm.providers.openai alone (in this process) reading the same streams."""
    from contextlib import aclosing

    from django.conf import settings

    from llm.providers.openai import OpenAIProvider
    from llm.registry import model_get

    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{fake_port}/v1"
    settings.OPENAI_API_KEY = "sk-bench"
    request = model_get(MODEL).request(prompt="Stream a lot", max_tokens=tokens)

    async def one() -> int:
        n = 0
        async with aclosing(OpenAIProvider().stream(request)) as items:
            async for item in items:
                n += isinstance(item, str)
        return n

    await one()
    before = self_cpu_seconds()
    for _ in range(runs):
        assert await one() == tokens
    return self_cpu_seconds() - before


async def phase_concurrency(
    port: int, user_tokens: list[str], fake: subprocess.Popen, daphne_pid: int, streams: int, tokens: int, rate: float
) -> dict:
    """`streams` users, one socket and one run each, all started at once."""
    fake_control(fake.port, "script", {"tokens": [f" w{i}" for i in range(tokens)], "delay": 1 / rate})
    sockets = []
    try:
        for n in range(streams):
            sockets.append(await Playground(port, user_tokens[n % len(user_tokens)]).__aenter__())
        cpu_before = proc_cpu_seconds(daphne_pid), proc_cpu_seconds(fake.pid), self_cpu_seconds()
        results = await asyncio.gather(*(pg.run(MODEL, "Concurrent", {"max_tokens": tokens}) for pg in sockets))
        cpu_after = proc_cpu_seconds(daphne_pid), proc_cpu_seconds(fake.pid), self_cpu_seconds()
    finally:
        await asyncio.gather(*(pg.__aexit__() for pg in sockets), return_exceptions=True)
    token_gaps, steady_gaps, tail_gaps = [], [], []
    completed = delivered = frames = 0
    all_started = max(r["started"] for r in results)
    first_ended = min(r["token_times"][-1] for r in results)
    middle_gaps = []
    for result in results:
        times = result["token_times"]
        frames += len(times)
        token_gaps += [(b - a) * 1000 for a, b in itertools.pairwise(times)]
        # Once every run has started: streaming alone, without the burst of run starts.
        steady_gaps += [(b - a) * 1000 for a, b in itertools.pairwise(times) if a >= all_started]
        # Every run started and none has ended: streaming alone, without the starts' or ends' work.
        middle_gaps += [(b - a) * 1000 for a, b in itertools.pairwise(times) if all_started <= a and b <= first_ended]
        tail_gaps.append((result["end"] - times[-1]) * 1000)
        if result["final"]["type"] == "run.completed":
            completed += 1
            delivered += result["final"]["usage"]["output_tokens"]
    first_sent = min(r["sent"] for r in results)
    wall = max(r["end"] for r in results) - first_sent
    return {
        "streams": streams,
        "tokens_per_stream": tokens,
        "tokens_per_second_each": rate,
        "completed": completed,
        "tokens_delivered": delivered,
        "token_frames": frames,
        "wall_seconds": wall,
        "all_started_after_s": max(r["started"] for r in results) - first_sent,
        "token_frame_gap_ms": {"p50": pct(token_gaps, 50), "p99": pct(token_gaps, 99), "max": max(token_gaps)},
        "token_frame_gap_after_all_started_ms": {
            "p50": pct(steady_gaps, 50),
            "p99": pct(steady_gaps, 99),
            "max": max(steady_gaps),
        },
        "token_frame_gap_while_all_stream_ms": {
            "n": len(middle_gaps),
            "p50": pct(middle_gaps, 50) if middle_gaps else None,
            "p99": pct(middle_gaps, 99) if middle_gaps else None,
        },
        "tokens_per_frame": delivered / frames,
        "last_token_to_terminal_ms": {"p50": pct(tail_gaps, 50), "p99": pct(tail_gaps, 99)},
        "daphne_cpu_share": (cpu_after[0] - cpu_before[0]) / wall,
        "fake_server_cpu_share": (cpu_after[1] - cpu_before[1]) / wall,
        "bench_client_cpu_share": (cpu_after[2] - cpu_before[2]) / wall,
        "load_average_1m": os.getloadavg()[0],
    }


async def phase_provider_concurrency(fake_port: int, streams: int, tokens: int, rate: float) -> dict:
    """The same load on llm.providers.openai alone (this process, no socket): the provider's share."""
    from contextlib import aclosing

    from django.conf import settings

    from llm.providers.openai import OpenAIProvider
    from llm.registry import model_get

    fake_control(fake_port, "script", {"tokens": [f" w{i}" for i in range(tokens)], "delay": 1 / rate})
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{fake_port}/v1"
    settings.OPENAI_API_KEY = "sk-bench"
    request = model_get(MODEL).request(prompt="Concurrent", max_tokens=tokens)

    async def one() -> list[float]:
        times = []
        async with aclosing(OpenAIProvider().stream(request)) as items:
            async for item in items:
                if isinstance(item, str):
                    times.append(time.perf_counter())
        return times

    await one()
    cpu_before, started = self_cpu_seconds(), time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(streams)))
    wall = time.perf_counter() - started
    cpu = self_cpu_seconds() - cpu_before
    gaps = [(b - a) * 1000 for times in results for a, b in itertools.pairwise(times)]
    return {
        "streams": streams,
        "tokens_delivered": sum(len(t) for t in results),
        "wall_seconds": wall,
        "delta_gap_ms": {"p50": pct(gaps, 50), "p99": pct(gaps, 99), "max": max(gaps)},
        "cpu_share": cpu / wall,
        "cpu_us_per_token": cpu / sum(len(t) for t in results) * 1e6,
    }


def local_direct_model():
    """The Gemma Llama loaded as the provider loads it (same options), for the direct comparison."""
    from llm.providers.local.models import GEMMA
    from llm.providers.local.pool import load

    return load(GEMMA)


def local_direct_run(llm, max_tokens: int) -> float:
    """Tokens/s of llama-cpp-python itself on the provider's prompt and parameters."""
    from llm.providers.local.models import GEMMA, completion_prompt

    started = time.perf_counter()
    n = 0
    for chunk in llm.create_completion(
        prompt=completion_prompt(LOCAL_PROMPT),
        max_tokens=max_tokens,
        temperature=0.0,
        repeat_penalty=GEMMA.repeat_penalty,
        stop=list(GEMMA.stop),
        stream=True,
    ):
        if chunk["choices"][0]["text"]:
            n += 1
    return n / (time.perf_counter() - started)


async def phase_local(port: int, token: str, max_tokens: int, rounds: int) -> dict:
    llm = await asyncio.to_thread(local_direct_model)
    direct, ws = [], []
    async with Playground(port, token) as pg:
        await pg.run("local:gemma-3-270m", "warm up", {"max_tokens": 4, "temperature": 0})  # loads the model
        await asyncio.to_thread(local_direct_run, llm, 4)
        for _ in range(rounds):  # interleaved, so both see the same machine load
            direct.append(await asyncio.to_thread(local_direct_run, llm, max_tokens))
            result = await pg.run("local:gemma-3-270m", LOCAL_PROMPT, {"max_tokens": max_tokens, "temperature": 0})
            final = result["final"]
            assert final["type"] == "run.completed", final
            ws.append(final["usage"]["output_tokens"] / (result["end"] - result["sent"]))
    llm.close()
    return {
        "max_tokens": max_tokens,
        "rounds": rounds,
        "direct_tokens_per_s": statistics.median(direct),
        "ws_tokens_per_s": statistics.median(ws),
        "ratio": statistics.median(ws) / statistics.median(direct),
    }


async def main(quick: bool, only: set[str], against: dict[str, str]) -> dict:
    import openai

    prepare_database()
    streams = 20 if quick else 200
    user_tokens = await asyncio.to_thread(bench_user_tokens, streams)
    token = user_tokens[0]
    fake, fake_port = start_fake()
    daphne = baseline = other = None
    try:
        daphne, port = start_daphne(fake_port)
        if against:
            # A second server with these settings, measured right after the first in each phase.
            other, other_port = start_daphne(fake_port, extra_env=against)
        sdk = openai.AsyncOpenAI(api_key="sk-bench", base_url=f"http://127.0.0.1:{fake_port}/v1", max_retries=0)
        report = {
            "machine": f"{platform.node()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()}"
            f" · Python {platform.python_version()}",
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "load_average_1m_at_start": os.getloadavg()[0],
        }
        wanted = only or {"ttft", "cpu", "concurrency", "provider", "local"}
        if "ttft" in wanted:
            baseline, base_port = start_daphne(fake_port, app="bench.llm_baseline_asgi:application")
            rounds = 50 if quick else 300
            report["ttft"] = await phase_ttft(port, token, fake_port, sdk, rounds=rounds, base_port=base_port)
            stop(baseline)
        if "cpu" in wanted:
            runs = 4 if quick else 20
            report["cpu"] = await phase_cpu(port, token, fake_port, sdk, daphne.pid, runs=runs, tokens=500)
            if other:
                report["against"] = {"env": against}
                report["against"]["cpu"] = await phase_cpu(
                    other_port, token, fake_port, sdk, other.pid, runs=runs, tokens=500
                )
        fake.port = fake_port
        if "concurrency" in wanted:
            report["concurrency"] = await phase_concurrency(
                port, user_tokens, fake, daphne.pid, streams=streams, tokens=100 if quick else 250, rate=50
            )
            if other:
                report.setdefault("against", {"env": against})["concurrency"] = await phase_concurrency(
                    other_port, user_tokens, fake, other.pid, streams=streams, tokens=100 if quick else 250, rate=50
                )
        if "provider" in wanted:
            report["provider_concurrency"] = await phase_provider_concurrency(
                fake_port, streams=streams, tokens=100 if quick else 250, rate=50
            )
        if "local" in wanted:
            report["local"] = await phase_local(port, token, max_tokens=32 if quick else 96, rounds=2 if quick else 5)
        await sdk.close()
        return report
    finally:
        for server in (daphne, baseline, other):
            if server is not None:
                stop(server)
        stop(fake)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    phases = ["ttft", "cpu", "concurrency", "provider", "local"]
    parser.add_argument("--only", action="append", choices=phases, default=[], help="run only this part (repeatable)")
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also run the cpu and concurrency phases on a second server with this environment (repeatable)",
    )
    args = parser.parse_args()
    against = dict(item.split("=", 1) for item in args.against)
    print(json.dumps(asyncio.run(main(args.quick, set(args.only), against)), indent=2))
