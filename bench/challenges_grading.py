"""Grading benchmark (run by hand): CPU per graded case sample, 10 checks including a JSON Schema.

    .venv/bin/python bench/challenges_grading.py [--samples N]

No database or network: the checks of one case are prepared once (as an attempt does), then
a passing and a failing output are graded many times on one thread, timed with the process
CPU clock. Also times the prefix checks an attempt makes on each streamed `run.token` frame,
and the per-case preparation. Prints one JSON document.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from challenges.grading import cases_prepare  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "city": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}
CHECKS = [
    {"type": "is-json", "schema": SCHEMA},
    {"type": "starts-with", "value": "{"},
    {"type": "contains", "value": '"name"'},
    {"type": "icontains", "value": "paris"},
    {"type": "not-contains", "value": "```"},
    {"type": "not-icontains", "value": "as an ai"},
    {"type": "contains-all", "value": ["name", "age", "city"]},
    {"type": "regex", "value": r'"age":\s*\d+'},
    {"type": "not-regex", "value": r"\b(sorry|cannot)\b", "flags": "i"},
    {"type": "word-count", "min": 3, "max": 40},
]
CASE = {"id": "c1", "input": {"text": "Ann Lee, 31, lives in Paris."}, "checks": CHECKS, "hidden": False}
PASSING = '{"name": "Ann Lee", "age": 31, "city": "Paris", "tags": ["teacher", "runner"]}'
FAILING = '{"name": "Ann Lee", "age": "thirty-one", "city": "Paris", "job": "teacher"}'


def cpu_per_call_us(call, repeats: int, rounds: int = 7) -> dict[str, float]:
    """Process CPU per call in µs: the median and the best of `rounds` rounds of `repeats` calls."""
    per_round = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(repeats):
            call()
        per_round.append((time.process_time() - start) / repeats * 1e6)
    return {"median_us": round(statistics.median(per_round), 1), "best_us": round(min(per_round), 1)}


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.machine())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=5000, help="grades per timing round")
    args = parser.parse_args()
    case = cases_prepare([CASE])["c1"]
    passing, failing = case.grade_local(PASSING), case.grade_local(FAILING)
    assert all(result.passed for result in passing), passing
    assert [result.type for result in failing if not result.passed] == ["is-json", "regex"], failing
    # An attempt checks the text streamed so far on each token frame (coalesced every 25 ms).
    prefixes = [PASSING[:end] for end in range(8, len(PASSING) + 1, 8)]
    prefix_index = iter(range(10**12))
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "load_1min": round(os.getloadavg()[0], 2),
        },
        "checks_per_case": len(CHECKS),
        "output_chars": len(PASSING),
        "grade_passing_sample": cpu_per_call_us(lambda: case.grade_local(PASSING), args.samples),
        "grade_failing_sample": cpu_per_call_us(lambda: case.grade_local(FAILING), args.samples),
        "prefix_checks_per_token_frame": cpu_per_call_us(
            lambda: case.failed_early(prefixes[next(prefix_index) % len(prefixes)]), args.samples
        ),
        "prepare_case_once_per_attempt": cpu_per_call_us(lambda: cases_prepare([CASE]), max(args.samples // 10, 1)),
        "bar_us": 1000,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
