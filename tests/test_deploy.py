"""The Docker image and the compose stack: production settings by default, migrations before the apps."""

import re

import yaml

from tests.support.processes import REPO_ROOT

APP_SERVICES = ("web", "worker", "beat")


def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def default_of(value: str) -> str:
    """The value compose gives `${NAME:-default}` when NAME is unset (a literal as is)."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    return match.group(1) if match else value


def test_the_image_runs_the_production_settings():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()

    env = re.search(r"^ENV (.*?)(?:\n(?!\s))", dockerfile, flags=re.MULTILINE | re.DOTALL).group(1)
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in env
    assert "config.settings.dev" not in env


def test_every_app_service_defaults_to_production_with_debug_off():
    services = compose()["services"]

    for name in ("migrate", *APP_SERVICES):
        env = services[name]["environment"]
        assert default_of(env["DJANGO_SETTINGS_MODULE"]) == "config.settings.production", name
        assert default_of(env["DJANGO_DEBUG"]) == "false", name
        # What production refuses to start without is passed through from the operator.
        for required in ("DJANGO_SECRET_KEY", "NUM_PROXIES", "JWT_SIGNING_KEY"):
            assert env[required] == f"${{{required}:-}}", (name, required)


def test_the_app_services_start_after_the_migrations_succeed():
    services = compose()["services"]

    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends_on["postgres"] == {"condition": "service_healthy"}, name
        assert depends_on["redis"] == {"condition": "service_healthy"}, name
    assert "migrate" not in " ".join(services["web"]["command"])
