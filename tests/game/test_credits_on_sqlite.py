"""The credit writes' tests again, on SQLite: PostgreSQL moves credits in one statement, every
other database through the ORM, and both paths answer to the same tests."""

import os
import re
import subprocess
import sys

import pytest

from tests.support.processes import REPO_ROOT

CREDIT_WRITE_TESTS = [
    "tests/game/test_credits.py",
    "tests/game/test_ledger_invariants.py",
    "tests/llm/test_run_start.py",
    "tests/llm/test_credits_runs.py",
    "tests/llm/test_run_settle.py",
]


@pytest.mark.processes
def test_the_credit_write_tests_pass_on_sqlite(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'credits.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CREDIT_WRITE_TESTS],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 30, result.stdout[-2000:]
