"""The server launcher (config.serve): daphne on uvloop unless told otherwise."""

import asyncio
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import uvloop

from config.serve import event_loop_policy
from tests.support.processes import REPO_ROOT


def test_the_server_loop_is_uvloop_by_default(monkeypatch):
    monkeypatch.delenv("SERVER_EVENT_LOOP", raising=False)

    assert isinstance(event_loop_policy(), uvloop.EventLoopPolicy)


def test_the_standard_loop_can_be_chosen(monkeypatch):
    monkeypatch.setenv("SERVER_EVENT_LOOP", "asyncio")

    policy = event_loop_policy()

    assert type(policy) is asyncio.DefaultEventLoopPolicy


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_served_process_answers_with_uvloop_loaded(daphne):
    server = daphne()

    with urllib.request.urlopen(f"{server.http_url}/healthz", timeout=5) as response:
        assert response.status == 200
    # The loop's extension module is mapped into the server process (daphne imports no uvloop itself).
    assert "uvloop/loop." in Path(f"/proc/{server.proc.pid}/maps").read_text()


def test_loading_the_asgi_application_freezes_the_startup_heap():
    code = (
        "import gc; import config.asgi; from config.gc_tuning import THRESHOLDS; "
        "assert gc.get_freeze_count() > 10000, gc.get_freeze_count(); "
        "assert gc.get_threshold() == THRESHOLDS, gc.get_threshold()"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr[-2000:]
