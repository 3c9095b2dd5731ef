import json
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from tests.support.processes import REPO_ROOT, child_env


@pytest.mark.django_db
def test_healthz_reports_database_and_redis_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


ROLE_SETTINGS = ("CACHE_REDIS_URL", "CELERY_BROKER_URL", "LEADERBOARD_REDIS_URL", "STREAMS_REDIS_URL")
DEAD_REDIS = "redis://127.0.0.1:1/0"


def every_role_on(settings, url: str) -> None:
    settings.REDIS_URL = url
    settings.CHANNEL_LAYER_REDIS_URLS = [url] if url else []
    for name in ROLE_SETTINGS:
        setattr(settings, name, url)


@pytest.mark.django_db
def test_healthz_is_503_naming_redis_when_it_does_not_answer(client, settings):
    every_role_on(settings, DEAD_REDIS)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "down"},
        "down": ["redis"],
    }


@pytest.mark.django_db
def test_healthz_skips_redis_when_none_is_configured(client, settings):
    every_role_on(settings, "")
    settings.CELERY_BROKER_URL = "memory://"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_healthz_probes_each_redis_a_role_was_moved_to_and_names_the_one_down(client, settings):
    live = settings.REDIS_URL
    settings.CHANNEL_LAYER_REDIS_URLS = [live, DEAD_REDIS]
    settings.LEADERBOARD_REDIS_URL = DEAD_REDIS
    settings.STREAMS_REDIS_URL = "redis://127.0.0.1:2/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "ok",
            "redis": "ok",
            "redis:channels.1+leaderboards": "down",
            "redis:streams": "down",
        },
        "down": ["redis:channels.1+leaderboards", "redis:streams"],
    }


@pytest.mark.django_db
def test_healthz_is_503_naming_the_database_when_it_does_not_answer():
    # A fresh process, so the dead database is the only one it knows.
    script = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "from django.test.utils import setup_test_environment\n"
        "setup_test_environment()\n"
        "response = Client().get('/healthz')\n"
        "print(json.dumps({'status': response.status_code, 'body': response.json()}))\n"
    )
    env = child_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/promptcraft", REDIS_URL=django_settings.REDIS_URL)

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "status": 503,
        "body": {"status": "unavailable", "checks": {"database": "down", "redis": "ok"}, "down": ["database"]},
    }


@pytest.mark.django_db
def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_answers_probes_by_ip_over_http_in_production_like_settings(client, settings):
    settings.ALLOWED_HOSTS = ["promptcraft.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    probe = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    other_page = client.get("/api/v1/docs/", HTTP_HOST="10.0.0.5:8000")

    assert probe.status_code == 200
    assert probe.json()["status"] == "ok"
    assert other_page.status_code == 400
