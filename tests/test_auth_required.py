"""Every REST endpoint refuses an anonymous caller with 401, but those listed here as public."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
# Anonymous callers may reach these (route regexes under /api/v1/): signing up, in and out (a
# refresh token in the body is the credential), the password reset flow, the emailed email
# verification link (its signed token is the credential), the API's own
# description, and the model catalogue the playground shows before sign-in.
PUBLIC = (
    r"auth/register/",
    r"auth/login/",
    r"auth/refresh/",
    r"auth/logout/",
    r"auth/password/reset/",
    r"auth/password/reset/confirm/",
    r"auth/email/verify/",
    r"auth/social/<slug:provider>/",  # social sign-in: the provider's code or ID token is the credential
    r"schema/",
    r"docs/",
    r"llm/models/",
)
CONVERTER_SAMPLES = {"uuid": str(uuid.uuid4()), "int": "1", "slug": "sample", "str": "sample", "path": "sample"}
METHODS = ("get", "post", "put", "patch", "delete")


def _routes(patterns, prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes.extend(_routes(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def _concrete(route: str) -> str:
    """A URL for the route: every parameter filled with a sample of its kind."""

    def group(match: re.Match) -> str:  # a router's regex group, e.g. (?P<pk>[^/.]+)
        return "1" if "0-9" in match.group(1) or "\\d" in match.group(1) else CONVERTER_SAMPLES["uuid"]

    route = re.sub(r"\(\?P<\w+>([^)]*)\)", group, route)
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: CONVERTER_SAMPLES[m.group(1) or "str"], route)
    return "/" + route.replace("^", "").replace("$", "").replace("\\Z", "")


# The OpenAI-compatible endpoint at the root (`/v1/`) has no public route either.
OPENAI_PREFIX = "v1/"
API_ROUTES = sorted(
    {
        route
        for route in _routes(get_resolver().url_patterns)
        if route.startswith((API_PREFIX, OPENAI_PREFIX)) and "format" not in route
    }
)


def test_the_walk_finds_the_api():
    assert len(API_ROUTES) > 30
    assert any("challenges/" in route for route in API_ROUTES)
    assert "v1/chat/completions" in API_ROUTES


@pytest.mark.parametrize("route", API_ROUTES)
def test_an_anonymous_caller_gets_401_outside_the_public_endpoints(route):
    if any(re.fullmatch(API_PREFIX + public, route) for public in PUBLIC):
        pytest.skip("public")
    client, url = APIClient(), _concrete(route)

    answers = {method: getattr(client, method)(url, {}, format="json").status_code for method in METHODS}

    allowed = {method: code for method, code in answers.items() if code != 405}
    assert allowed and set(allowed.values()) == {401}, (url, answers)
