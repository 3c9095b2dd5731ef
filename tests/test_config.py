"""Settings per environment, the production deploy checks and the OpenAPI schema."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from drf_spectacular.generators import SchemaGenerator

from tests.support import processes

REDIS_VARIABLES = {
    "REDIS_URL",
    "CHANNEL_LAYER_REDIS_URLS",
    "CACHE_REDIS_URL",
    "CELERY_BROKER_URL",
    "LEADERBOARD_REDIS_URL",
    "STREAMS_REDIS_URL",
}


def run_python(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL")) and k not in REDIS_VARIABLES
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=processes.REPO_ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "promptcraft.example.com",
        "DATABASE_URL": "postgres://promptcraft@db.internal:5432/promptcraft",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "NUM_PROXIES": "1",
    }
    env.update(overrides)
    return env


def test_production_settings_pass_the_deploy_checks():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY must be set"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must point at PostgreSQL"),
        ({"REDIS_URL": ""}, "REDIS_URL is required"),
        ({"JWT_SIGNING_KEY": "s" * 31}, "JWT_SIGNING_KEY must be a random value of at least 32 characters"),
        (
            {"JWT_SIGNING_KEY": "dev-insecure-change-me-0123456789abcdefghijklmnopqrstuvwxyz"},
            "JWT_SIGNING_KEY must be a random value",
        ),
        ({"NUM_PROXIES": ""}, "NUM_PROXIES must be set in production"),
    ],
)
def test_production_refuses_to_start_on_embedded_defaults(override, message):
    result = run_python(["manage.py", "check"], **production_env(**override))

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("num_proxies", "expected"),
    [("0", [0, None, True]), ("2", [2, ["HTTP_X_FORWARDED_PROTO", "https"], True])],
)
def test_production_trusts_forwarded_headers_only_from_the_proxies_it_is_told_of(num_proxies, expected):
    script = (
        "import json, django; django.setup()\n"
        "from django.conf import settings as s\n"
        "print(json.dumps([s.REST_FRAMEWORK['NUM_PROXIES'], s.SECURE_PROXY_SSL_HEADER,"
        " s.SIMPLE_JWT['SIGNING_KEY'] == s.SECRET_KEY]))\n"
    )

    # JWT_SIGNING_KEY unset: tokens are signed with the (checked) secret key.
    result = run_python(["-c", script], **production_env(NUM_PROXIES=num_proxies, JWT_SIGNING_KEY=""))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_dev_settings_without_environment_use_the_embedded_defaults():
    script = (
        "import json, django; django.setup()\n"
        "from django.conf import settings as s\n"
        "print(json.dumps([s.DEBUG, s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND]))\n"
    )

    result = run_python(["-c", script], DJANGO_SETTINGS_MODULE="config.settings.dev")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        True,
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "django.core.cache.backends.locmem.LocMemCache",
        True,
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_redis_backed_settings_share_one_redis_and_never_time_out_idle_reads():
    from channels_redis.core import RedisChannelLayer

    layer = django_settings.CHANNEL_LAYERS["default"]

    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    [host] = layer["CONFIG"]["hosts"]
    assert host["address"] == django_settings.REDIS_URL
    # An idle consumer's BZPOPMIN returns before the read timeout; a hung Redis still times out.
    assert RedisChannelLayer.brpop_timeout < host["socket_timeout"] < 30
    assert django_settings.CACHES["default"]["BACKEND"] == "core.cache.RedisCache"
    assert django_settings.CACHES["default"]["LOCATION"] == django_settings.REDIS_URL
    assert django_settings.CELERY_BROKER_URL == django_settings.REDIS_URL


def test_each_redis_role_takes_its_own_url_and_the_others_default_to_redis_url():
    script = (
        "import json, django; django.setup()\n"
        "from django.conf import settings as s\n"
        "print(json.dumps([[h['address'] for h in s.CHANNEL_LAYERS['default']['CONFIG']['hosts']],"
        " s.CACHES['default']['LOCATION'], s.CELERY_BROKER_URL, s.LEADERBOARD_REDIS_URL, s.STREAMS_REDIS_URL]))\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.dev", "REDIS_URL": "redis://main:6379/0"}

    defaults = run_python(["-c", script], **env)
    split = run_python(
        ["-c", script],
        **env,
        CHANNEL_LAYER_REDIS_URLS="redis://layer-a:6379/0, redis://layer-b:6379/0",
        CACHE_REDIS_URL="redis://cache:6379/0",
        LEADERBOARD_REDIS_URL="redis://boards:6379/0",
    )

    assert defaults.returncode == split.returncode == 0, defaults.stderr + split.stderr
    main = "redis://main:6379/0"
    assert json.loads(defaults.stdout) == [[main], main, main, main, main]
    assert json.loads(split.stdout) == [
        ["redis://layer-a:6379/0", "redis://layer-b:6379/0"],
        "redis://cache:6379/0",
        main,
        "redis://boards:6379/0",
        main,
    ]


def test_production_runs_without_redis_url_only_when_every_role_has_its_own():
    roles = {
        "CHANNEL_LAYER_REDIS_URLS": "redis://layer-a:6379/0,redis://layer-b:6379/0",
        "CACHE_REDIS_URL": "redis://cache:6379/0",
        "CELERY_BROKER_URL": "redis://broker:6379/0",
        "LEADERBOARD_REDIS_URL": "redis://boards:6379/0",
    }
    streams = "redis://streams:6379/0"

    missing_one = run_python(["manage.py", "check"], **production_env(REDIS_URL="", **roles))
    every_one = run_python(["manage.py", "check"], **production_env(REDIS_URL="", **roles, STREAMS_REDIS_URL=streams))

    assert missing_one.returncode != 0
    assert "REDIS_URL is required in production (or a URL for each of STREAMS_REDIS_URL)" in missing_one.stderr
    assert every_one.returncode == 0, every_one.stderr


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings(tmp_path):
    result = run_python(
        ["manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")],
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=processes.test_database_url(),
        REDIS_URL=django_settings.REDIS_URL,
    )

    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert "Error" not in result.stderr


def test_schema_documents_every_auth_endpoint_with_its_answers():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]

    def codes(path: str, method: str) -> set[str]:
        return set(paths[f"/api/v1/auth/{path}"][method]["responses"])

    assert codes("register/", "post") == {"201", "400", "415", "429"}
    assert codes("login/", "post") == {"200", "400", "401", "415", "429"}
    assert codes("refresh/", "post") == {"200", "400", "401", "415", "429"}
    assert codes("logout/", "post") == {"205", "400", "401", "415", "429"}
    assert codes("me/", "get") == {"200", "401", "429"}
    assert codes("me/", "patch") == {"200", "400", "401", "403", "415", "429"}  # 403: CSRF, for a session
    assert codes("password/change/", "post") == {"200", "400", "401", "403", "415", "429"}
    assert codes("password/reset/", "post") == {"202", "400", "415", "429"}
    assert codes("password/reset/confirm/", "post") == {"200", "400", "415", "429"}
    assert "put" not in paths["/api/v1/auth/me/"]
    login_body = schema["components"]["schemas"]["LoginRequest"]
    assert set(login_body["required"]) == {"username_or_email", "password"}


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200
    assert schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_every_websocket_route_checks_the_origin():
    from accounts.ws.origins import OriginValidator
    from config.asgi import websocket_urlpatterns

    unguarded = [
        str(route.pattern) for route in websocket_urlpatterns if not isinstance(route.callback, OriginValidator)
    ]

    assert websocket_urlpatterns
    assert unguarded == []


def test_env_helpers_treat_unset_and_empty_as_the_default(monkeypatch):
    from config.env import env_bool, env_int, env_list, env_str

    monkeypatch.setenv("PC_EMPTY", "")
    monkeypatch.setenv("PC_FLAG", " Yes ")
    monkeypatch.setenv("PC_LIST", "a.example, ,b.example")
    monkeypatch.setenv("PC_NUMBER", "42")
    monkeypatch.delenv("PC_UNSET", raising=False)

    assert (env_str("PC_EMPTY", "d"), env_str("PC_UNSET", "d")) == ("d", "d")
    assert (env_int("PC_EMPTY", 7), env_int("PC_NUMBER", 7)) == (7, 42)
    assert (env_bool("PC_FLAG", False), env_bool("PC_EMPTY", True)) == (True, True)
    assert env_list("PC_LIST", []) == ["a.example", "b.example"]
    assert (env_list("PC_UNSET", ["x"]), env_list("PC_EMPTY", ["x"])) == (["x"], ["x"])


@pytest.mark.django_db
def test_unknown_api_urls_are_json_404s_and_pages_stay_html(client):
    api = client.get("/api/v1/no-such-thing/")
    page = client.get("/no-such-page/")

    assert api.status_code == 404
    assert api.json() == {"detail": "Not found.", "code": "not_found"}
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_api_server_errors_are_json(rf):
    from config.exceptions import server_error

    response = server_error(rf.get("/api/v1/game/profile/"))

    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "Server error.", "code": "server_error"}
