"""Graded-attempt benchmark (run by hand): attempts of 10 cases through a real daphne process and
`/ws/playground/`, on the fake OpenAI server.

    nice -n -15 .venv/bin/python bench/challenges_attempts.py [--quick] [--only single|crowd]

`single`: one learner's attempt of 10 cases (8 public, 2 hidden) against its slowest case run
alone (each case's prompt as a plain `run.start` on the same socket, same script), round after
round: attempt wall time / slowest case alone (bar ≤ 1.3x).

`crowd`: 50 learners at once, each sending two `attempt.start` together with a balance that
covers one (the other must be refused `insufficient_credits`), against a baseline of 50 other
learners each starting the same 10 runs as plain `run.start` at once, in the same run. Checks
that no frame is lost (every run's `run.token` seq contiguous and adding up to its output, every
case's `attempt.case`, one end per attempt), then reads the database: no balance below zero, every
learner's balance equal to their grants less what their attempts cost, one reservation, at most
one refund and one game award per attempt, no case run earning run XP, no run batch left open.
Reports the frame gaps (p50 / p99 / max) of attempts against the baseline's (bar p99 ≤ 150 ms).

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/pc_chal_bench, created and migrated here; BENCH_REDIS_URL,
default redis://127.0.0.1:6379/5). Every run makes its own learners and challenge, so nothing
is truncated. Starts and always stops a fake OpenAI server process and one daphne process on
loopback. Prints one JSON document.
"""

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pc_chal_bench")

from bench import llm_streaming as streaming  # noqa: E402
from bench.ws_client import WebSocket  # noqa: E402

MODEL = "openai:gpt-4o"
CASES = 10
HIDDEN = 2
PROMPT = "Write a few words about {{topic}}."
PARAMS = {"temperature": 0, "max_tokens": 256}
# Server settings: the real per-user run limit would refuse the baseline's 10 plain runs at once.
SERVER_ENV = {"LLM_MAX_CONCURRENT_RUNS": "10", "CHALLENGES_ATTEMPT_PARALLEL": "10"}
ENDS = (b'"type":"attempt.completed"', b'"type":"attempt.failed"', b'"type":"attempt.cancelled"')
RUN_ENDS = (b'"type":"run.completed"', b'"type":"run.failed"', b'"type":"run.cancelled"')
ERRORS = (b'"type": "error"', b'"type":"error"')


def pct(values: list[float], q: float) -> float | None:
    return streaming.pct(values, q) if values else None


def spread(values: list[float]) -> dict[str, float | None]:
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99), "max": max(values, default=None)}


# --- a WebSocket client that keeps every frame -----------------------------------------------


class Recorder(WebSocket):
    """Keeps every message with its arrival stamp; counts the ends it is told to wait for."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.messages: list[tuple[float, bytes]] = []
        self.ends = 0
        self.end_markers: tuple[bytes, ...] = ENDS + ERRORS
        self.arrived = asyncio.Event()

    def _on_frame(self, b0: int, payload: bytes, now: float) -> None:
        before = len(self.times)
        super()._on_frame(b0, payload, now)
        if len(self.times) > before:
            message = self._last
            self.messages.append((now, message))
            if any(marker in message for marker in self.end_markers):
                self.ends += 1
            self.arrived.set()

    async def until(self, ends: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.ends < ends:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), max(0.001, deadline - time.monotonic()))

    def frames(self, since: int = 0) -> list[tuple[float, dict]]:
        return [(stamp, json.loads(text)) for stamp, text in self.messages[since:]]


async def connect(port: int, token: str) -> Recorder:
    url = f"ws://127.0.0.1:{port}/ws/playground/"
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    origin = f"http://127.0.0.1:{port}"
    _, ws = await loop.create_connection(
        lambda: Recorder(parts.hostname, port, parts.path, origin), parts.hostname, port
    )
    await asyncio.wait_for(ws.opened, 30)
    ws.send_text(json.dumps({"type": "auth", "token": token}))
    while not ws.messages:
        ws.arrived.clear()
        await asyncio.wait_for(ws.arrived.wait(), 30)
    reply = json.loads(ws.messages[0][1])
    assert reply["type"] == "auth.ok", reply
    ws.messages.clear()
    return ws


# --- the database side (this process) ---------------------------------------------------------


def django_setup() -> None:
    os.environ.update(streaming.BASE_ENV)
    os.environ.update({"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    import django

    django.setup()


def prepare_database() -> None:
    import psycopg

    url = streaming.DATABASE_URL
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, **streaming.BASE_ENV}
    import subprocess

    subprocess.run([streaming.PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)


def make_challenge(tag: str):
    """A built-in (public, counted) challenge of 10 cases whose checks the fake's script passes."""
    from challenges import documents, services

    cases = [
        {
            "input": {"topic": f"topic number {n}"},
            "checks": [
                {"type": "icontains", "value": "w3"},
                {"type": "not-contains", "value": "sorry"},
                {"type": "word-count", "max": 200},
            ],
            "hidden": n >= CASES - HIDDEN,
        }
        for n in range(CASES)
    ]
    checked = documents.ChallengeDocumentSerializer(
        data={
            "slug": f"bench-attempts-{tag}",
            "title": f"Bench attempts {tag}",
            "summary": "Ten cases.",
            "brief": "## Task\nWrite about {{topic}}.",
            "technique": "instructions",
            "difficulty": "beginner",
            "cases": cases,
            "par_tokens": 20,
            "models": [MODEL],
            "default_model": MODEL,
            "params": PARAMS,
        }
    )
    checked.is_valid(raise_exception=True)
    return services.challenge_create(author=None, document=checked.validated_data, builtin=True)


def make_learners(tag: str, count: int, balance: int) -> list[tuple[str, str]]:
    """(user id, access token) of `count` new learners, each granted `balance` credits."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from game import services as game_services

    learners = []
    for n in range(count):
        user = User.objects.create(username=f"b{tag}{n}", email=f"b{tag}{n}@example.com", email_verified=True)
        if user.credits < balance:
            game_services.credits_grant(
                user_id=user.pk, amount=balance - user.credits, reason="bench", idempotency_key="bench:grant"
            )
        learners.append((str(user.pk), str(RefreshToken.for_user(user).access_token)))
    return learners


def attempt_reserve(slug: str) -> int:
    from accounts.models import User
    from challenges import attempts

    name = f"probe-{uuid.uuid4().hex[:8]}"
    user = User.objects.create(username=name, email=f"{name}@example.com")
    return attempts.attempt_prepare(user=user, challenge=slug, prompt=PROMPT).reserve


def case_prompts(slug: str) -> list[str]:
    from challenges.models import Challenge
    from prompts import variables

    challenge = Challenge.objects.get(slug=slug)
    return [variables.render(PROMPT, case["input"], {}) for case in challenge.cases]


def database_report(user_ids: list[str]) -> dict:
    """What the database says of these learners' attempts after the crowd phase."""
    from django.db.models import Sum

    from accounts.models import User
    from challenges.models import Attempt
    from game.models import Activity, CreditEntry, XPEvent
    from llm.models import LLMRun, RunBatch

    attempts = list(Attempt.objects.filter(user_id__in=user_ids))
    ledger = {
        key: list(rows)
        for key, rows in itertools.groupby(
            CreditEntry.objects.filter(user_id__in=user_ids, reason__startswith="attempt.")
            .order_by("idempotency_key")
            .values_list("idempotency_key", "reason", "delta"),
            key=lambda row: row[0].split(":")[1],
        )
    }
    per_attempt_rows = {str(a.pk): ledger.get(str(a.pk), []) for a in attempts}
    completed = [a for a in attempts if a.status == "completed"]
    awards = Activity.objects.filter(user_id__in=user_ids, idempotency_key__startswith="challenge:")
    award_keys = list(awards.values_list("idempotency_key", flat=True))
    xp_keys = list(
        XPEvent.objects.filter(user_id__in=user_ids, idempotency_key__startswith="xp:challenge:").values_list(
            "idempotency_key", flat=True
        )
    )
    balances = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "credits"))
    entries = CreditEntry.objects.filter(user_id__in=user_ids).values("user_id")
    ledger_sums = {str(row["user_id"]): row["total"] for row in entries.annotate(total=Sum("delta"))}
    attempt_entries = entries.filter(reason__startswith="attempt.").annotate(total=Sum("delta"))
    attempt_sums = {str(row["user_id"]): row["total"] for row in attempt_entries}
    cost = {
        str(row["user_id"]): row["total"]
        for row in Attempt.objects.filter(user_id__in=user_ids).values("user_id").annotate(total=Sum("cost_credits"))
    }
    return {
        "attempts": len(attempts),
        "by_status": {
            status: sum(1 for a in attempts if a.status == status) for status in {a.status for a in attempts}
        },
        "refused_insufficient_credits": sum(1 for a in attempts if a.error_code == "insufficient_credits"),
        "completed_and_passed": sum(1 for a in completed if a.passed),
        "lowest_balance": min(balances.values()),
        "negative_ledger_balances": CreditEntry.objects.filter(user_id__in=user_ids, balance_after__lt=0).count(),
        # Every balance is its ledger's sum, and the attempts' entries sum to what they cost.
        "balances_equal_their_ledger": all(balances[uuid.UUID(user)] == ledger_sums.get(user) for user in user_ids),
        "attempt_entries_equal_attempt_costs": all(
            attempt_sums.get(user, 0) == -cost.get(user, 0) for user in user_ids
        ),
        "reserve_rows_per_running_attempt": sorted(
            {sum(1 for row in per_attempt_rows[str(a.pk)] if row[1] == "attempt.reserve") for a in completed}
        ),
        "refund_rows_per_attempt_max": max(
            sum(1 for row in rows if row[1] == "attempt.refund") for rows in per_attempt_rows.values()
        ),
        "ledger_equals_cost_per_attempt": all(
            -sum(row[2] for row in per_attempt_rows[str(a.pk)]) == a.cost_credits for a in attempts
        ),
        "game_awards": len(award_keys),
        "game_awards_distinct": len(set(award_keys)),
        "xp_events_distinct": len(set(xp_keys)),
        "each_completed_attempt_awarded_once": sorted(award_keys) == sorted(f"challenge:{a.pk}" for a in completed)
        and len(xp_keys) == len(completed),
        "run_xp_activities": Activity.objects.filter(user_id__in=user_ids, activity="run.completed").count(),
        "case_runs": LLMRun.objects.filter(user_id__in=user_ids).count(),
        "run_batches_left": RunBatch.objects.filter(user_id__in=user_ids).count(),
    }


# --- frames ------------------------------------------------------------------------------------


def run_xp_tasks_queued() -> int:
    """`llm.run_completed_record` tasks waiting in the broker (no worker runs here): run XP asked for."""
    import redis

    client = redis.Redis.from_url(streaming.BASE_ENV["REDIS_URL"])
    return sum(b"llm.run_completed_record" in message for message in client.lrange("celery", 0, -1))


def runs_of(frames: list[tuple[float, dict]]) -> dict[str, dict]:
    """Per run id: its token stamps and seqs, the text they add up to, and its end frame."""
    runs: dict[str, dict] = {}
    for stamp, frame in frames:
        kind = frame["type"]
        if not kind.startswith("run.") or kind == "run.queued":
            continue
        run = runs.setdefault(frame["run_id"], {"stamps": [], "seqs": [], "text": [], "end": None, "start": None})
        if kind == "run.started":
            run["start"], run["case_id"] = stamp, frame.get("case_id")
        elif kind == "run.token":
            run["stamps"].append(stamp)
            run["seqs"].append(frame["seq"])
            run["text"].append(frame["delta"])
        else:
            run["end"], run["end_stamp"] = frame, stamp
    return runs


def lost_frames(runs: dict[str, dict]) -> list[str]:
    problems = []
    for run_id, run in runs.items():
        if run["end"] is None or run["end"]["type"] != "run.completed":
            problems.append(f"{run_id}: ended {run['end'] and run['end']['type']}")
        elif run["seqs"] != list(range(len(run["seqs"]))):
            problems.append(f"{run_id}: seqs {run['seqs'][:5]}...")
        elif "".join(run["text"]) != run["end"]["output"]:
            problems.append(f"{run_id}: tokens do not add up to the output")
    return problems


def gaps(runs: list[dict]) -> list[float]:
    """The gaps (ms) between consecutive `run.token` frames of each of these runs."""
    return [(b - a) * 1000 for run in runs for a, b in itertools.pairwise(run["stamps"])]


# --- phases ------------------------------------------------------------------------------------


async def plain_run(ws: Recorder, prompt: str, n: int) -> tuple[float, dict]:
    """One run.start on the socket; (wall seconds to its end frame, its frames)."""
    since, ends = len(ws.messages), ws.ends
    ws.end_markers = RUN_ENDS + ERRORS
    sent = time.perf_counter()
    ws.send_text(
        json.dumps({"type": "run.start", "request_id": f"r{n}", "model": MODEL, "prompt": prompt, "params": PARAMS})
    )
    await ws.until(ends + 1, 60)
    frames = ws.frames(since)
    assert frames[-1][1]["type"] == "run.completed", frames[-1]
    return frames[-1][0] - sent, frames


async def attempt_once(ws: Recorder, slug: str, n: int) -> tuple[float, list[tuple[float, dict]]]:
    since, ends = len(ws.messages), ws.ends
    ws.end_markers = ENDS + ERRORS
    sent = time.perf_counter()
    ws.send_text(json.dumps({"type": "attempt.start", "request_id": f"a{n}", "challenge": slug, "prompt": PROMPT}))
    await ws.until(ends + 1, 120)
    frames = ws.frames(since)
    assert frames[-1][1]["type"] == "attempt.completed", frames[-1]
    return frames[-1][0] - sent, frames


async def phase_single(port: int, fake_port: int, tag: str, rounds: int, tokens: int, delay: float) -> dict:
    slug = (await asyncio.to_thread(make_challenge, f"{tag}s")).slug
    prompts = await asyncio.to_thread(case_prompts, slug)
    ((_, token),) = await asyncio.to_thread(make_learners, f"{tag}s", 1, 10_000_000)
    streaming.fake_control(fake_port, "script", {"tokens": [f" w{i}" for i in range(tokens)], "delay": delay})
    ws = await connect(port, token)
    results = []
    try:
        await plain_run(ws, prompts[0], 0)  # warm-up: connections, code paths
        await attempt_once(ws, slug, 0)
        for r in range(rounds):
            alone = [(await plain_run(ws, prompt, r * 100 + i))[0] for i, prompt in enumerate(prompts)]
            wall, frames = await attempt_once(ws, slug, r + 1)
            runs = runs_of(frames)
            sent = frames[0][0]  # attempt.started's arrival
            in_attempt = [run["end_stamp"] - run["start"] for run in runs.values()]
            results.append(
                {
                    "attempt_wall_s": wall,
                    "slowest_case_alone_s": max(alone),
                    "slowest_public_case_in_attempt_s": max(in_attempt),
                    "started_to_last_case_run_started_ms": (max(run["start"] for run in runs.values()) - sent) * 1000,
                    "last_case_end_to_attempt_completed_ms": (
                        frames[-1][0] - max(r["end_stamp"] for r in runs.values())
                    )
                    * 1000,
                    "case_frames": sum(1 for _, f in frames if f["type"] == "attempt.case"),
                    "lost": lost_frames(runs),
                }
            )
    finally:
        await ws.close()
    ratios = sorted(r["attempt_wall_s"] / r["slowest_case_alone_s"] for r in results)
    return {
        "cases": CASES,
        "hidden_cases": HIDDEN,
        "tokens_per_case": tokens,
        "token_delay_ms": delay * 1000,
        "rounds": results,
        "attempt_over_slowest_case_alone": {"median": statistics.median(ratios), "max": ratios[-1]},
        "load_average_1m": os.getloadavg()[0],
    }


async def crowd_baseline(port: int, learners: list[tuple[str, str]], prompts: list[str]) -> dict:
    sockets = [await connect(port, token) for _, token in learners]
    try:
        for ws in sockets:
            ws.end_markers = RUN_ENDS + ERRORS
        started = time.perf_counter()
        for ws in sockets:
            for i, prompt in enumerate(prompts):
                ws.send_text(
                    json.dumps(
                        {"type": "run.start", "request_id": f"r{i}", "model": MODEL, "prompt": prompt, "params": PARAMS}
                    )
                )
        await asyncio.gather(*(ws.until(len(prompts), 180) for ws in sockets))
        wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    runs = {run_id: run for ws in sockets for run_id, run in runs_of(ws.frames()).items()}
    every = gaps(list(runs.values()))
    return {
        "runs": len(runs),
        "lost": lost_frames(runs)[:5],
        "wall_s": wall,
        "token_frame_gap_ms": spread(every),
        "load_average_1m": os.getloadavg()[0],
    }


async def crowd_attempts(port: int, daphne_pid: int, slug: str, learners: list[tuple[str, str]]) -> dict:
    sockets = [await connect(port, token) for _, token in learners]
    xp_tasks_before = await asyncio.to_thread(run_xp_tasks_queued)
    try:
        cpu_before = streaming.proc_cpu_seconds(daphne_pid)
        started = time.perf_counter()
        for ws in sockets:  # two at once: the balance covers one
            for n in (1, 2):
                ws.send_text(
                    json.dumps({"type": "attempt.start", "request_id": f"a{n}", "challenge": slug, "prompt": PROMPT})
                )
        await asyncio.gather(*(ws.until(2, 180) for ws in sockets))
        wall = time.perf_counter() - started
        daphne_cpu = streaming.proc_cpu_seconds(daphne_pid) - cpu_before
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    problems: list[str] = []
    all_runs: dict[str, dict] = {}
    completed, refused, attempt_walls, waits, to_runs, to_end = 0, 0, [], [], [], []
    for ws in sockets:
        frames = ws.frames()
        errors = [f for _, f in frames if f["type"] == "error"]
        refused += sum(1 for f in errors if f["code"] == "insufficient_credits")
        problems += [f"error {f['code']}" for f in errors if f["code"] != "insufficient_credits"]
        starts = [f for _, f in frames if f["type"] == "attempt.started"]
        for start in starts:
            attempt_id = start["attempt_id"]
            mine = [(stamp, f) for stamp, f in frames if f.get("attempt_id") == attempt_id]
            waits.append(mine[0][0] - started)  # attempt.start sent -> attempt.started
            graded = {(f["case_id"], f["sample"]) for _, f in mine if f["type"] == "attempt.case"}
            expected = {(case["id"], s) for case in start["cases"] for s in range(start["samples"])}
            if graded != expected:
                problems.append(f"{attempt_id}: attempt.case for {len(graded)} of {len(expected)} samples")
            ends = [f for _, f in mine if f["type"] in ("attempt.completed", "attempt.failed", "attempt.cancelled")]
            if [f["type"] for f in ends] != ["attempt.completed"] or not ends[0]["passed"]:
                problems.append(f"{attempt_id}: ended {[f['type'] for f in ends]}")
            else:
                completed += 1
                attempt_walls.append(mine[-1][0] - started)
            runs = runs_of(mine)
            problems += lost_frames(runs)
            if runs and ends:
                to_runs.append(max(run["start"] for run in runs.values()) - mine[0][0])
                to_end.append(mine[-1][0] - max(run["end_stamp"] for run in runs.values()))
            public = sum(1 for case in start["cases"] if not case["hidden"])
            if len(runs) != public * start["samples"]:
                problems.append(f"{attempt_id}: {len(runs)} public runs streamed of {public}")
            all_runs.update(runs)
    every = gaps(list(all_runs.values()))
    return {
        "learners": len(learners),
        "attempts_completed": completed,
        "attempts_refused_insufficient_credits": refused,
        "public_case_runs_streamed": len(all_runs),
        "problems": problems[:10],
        "problem_count": len(problems),
        "run_xp_tasks_queued_by_case_runs": await asyncio.to_thread(run_xp_tasks_queued) - xp_tasks_before,
        "wall_s": wall,
        "attempt_wall_s": spread(attempt_walls),
        "start_to_attempt_started_s": spread(waits),
        "attempt_started_to_last_case_run_started_s": spread(to_runs),
        "last_case_run_end_to_attempt_end_s": spread(to_end),
        "token_frame_gap_ms": spread(every),
        "daphne_cpu_share": daphne_cpu / wall,
        "load_average_1m": os.getloadavg()[0],
    }


async def phase_crowd(port: int, daphne_pid: int, fake_port: int, tag: str, learners: int, rounds: int) -> dict:
    slug = (await asyncio.to_thread(make_challenge, f"{tag}c")).slug
    prompts = await asyncio.to_thread(case_prompts, slug)
    reserve = await asyncio.to_thread(attempt_reserve, slug)
    balance = reserve + reserve // 2
    streaming.fake_control(fake_port, "script", {"tokens": [f" w{i}" for i in range(20)], "delay": 0.05})
    report: dict = {
        "learners": learners,
        "cases_each": CASES,
        "tokens_per_run": 20,
        "token_delay_ms": 50,
        "attempt_reserve": reserve,
        "balance_each": balance,
        "rounds": [],
    }
    for r in range(rounds):
        base_learners = await asyncio.to_thread(make_learners, f"{tag}p{r}", learners, 10_000_000)
        baseline = await crowd_baseline(port, base_learners, prompts)
        crowd = await asyncio.to_thread(make_learners, f"{tag}a{r}", learners, balance)
        attempts = await crowd_attempts(port, daphne_pid, slug, crowd)
        await asyncio.sleep(1)  # the settlements' last events
        database = await asyncio.to_thread(database_report, [user for user, _ in crowd])
        p99 = attempts["token_frame_gap_ms"]["p99"], baseline["token_frame_gap_ms"]["p99"]
        report["rounds"].append(
            {
                "baseline_plain_runs": baseline,
                "attempts": attempts,
                "database": database,
                "attempt_over_baseline_p99_gap": p99[0] / p99[1],
            }
        )
    return report


async def main(quick: bool, only: set[str]) -> dict:
    await asyncio.to_thread(prepare_database)
    await asyncio.to_thread(django_setup)
    tag = uuid.uuid4().hex[:6]
    fake, fake_port = streaming.start_fake()
    daphne = None
    try:
        daphne, port = streaming.start_daphne(fake_port, extra_env=SERVER_ENV)
        report = {
            "machine": f"{platform.node()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()}"
            f" · Python {platform.python_version()}",
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "niceness": os.nice(0),
            "server_env": SERVER_ENV,
            "load_average_1m_at_start": os.getloadavg()[0],
        }
        wanted = only or {"single", "crowd"}
        if "single" in wanted:
            report["single"] = await phase_single(
                port, fake_port, tag, rounds=2 if quick else 5, tokens=40, delay=0.025
            )
        if "crowd" in wanted:
            report["crowd"] = await phase_crowd(
                port, daphne.pid, fake_port, tag, learners=10 if quick else 50, rounds=1 if quick else 2
            )
        report["load_average_1m_at_end"] = os.getloadavg()[0]
        return report
    finally:
        if daphne is not None:
            streaming.stop(daphne)
        streaming.stop(fake)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--only", action="append", choices=["single", "crowd"], default=[], help="one part (repeatable)"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.quick, set(args.only))), indent=2))
