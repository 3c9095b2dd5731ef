"""Malformed and hostile request bodies are 400s on every endpoint that reads a body, never 500s."""

import pytest
from django.test import Client
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services import token_pair_issue
from prompts.models import PromptTemplate

pytestmark = pytest.mark.django_db

DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
WRITE_METHODS = ("POST", "PUT", "PATCH")
# Endpoints whose every answer to a body they cannot parse is that 400 (the rest may answer
# before reading the body: a fork or a favourite has none).
READS_THE_BODY = {
    "/api/v1/auth/login/",
    "/api/v1/auth/register/",
    "/api/v1/auth/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/auth/password/reset/",
    "/api/v1/auth/password/reset/confirm/",
    "/api/v1/auth/password/change/",
    "/api/v1/auth/me/",
    "/api/v1/auth/api-keys/",
    "/api/v1/game/awards/",
    "/api/v1/llm/runs/",
    "/api/v1/templates/",
    "/api/v1/templates/{pk}/",
    "/api/v1/templates/{pk}/rate/",
    "/api/v1/templates/{pk}/render/",
    "/api/v1/templates/import/",
}


def write_endpoints() -> list[tuple[str, str]]:
    endpoints = EndpointEnumerator().get_api_endpoints()
    return sorted({(path, method) for path, _regex, method, _view in endpoints if method in WRITE_METHODS})


def staff_client(make_user) -> tuple[APIClient, PromptTemplate]:
    staff = make_user("staff", is_staff=True)
    template = PromptTemplate.objects.create(owner=staff, title="t", content="Hi {{name}}", version=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(staff).access_token}")
    client.raise_request_exception = False
    return client, template


def test_every_write_endpoint_is_enumerated():
    paths = {path for path, _ in write_endpoints()}

    assert paths >= READS_THE_BODY


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_a_body_nested_a_thousand_deep_is_a_400_everywhere(make_user, body):
    client, template = staff_client(make_user)

    for path, method in write_endpoints():
        url = path.replace("{pk}", str(template.pk))
        response = client.generic(method, url, data=body, content_type="application/json")

        if path in READS_THE_BODY:
            assert (path, method, response.status_code) == (path, method, 400)
            assert response.json()["code"] == "parse_error", (path, method)
        else:
            assert response.status_code < 500, (path, method, response.status_code)


@pytest.mark.parametrize(
    "body",
    [
        DEEP_ARRAY,
        '{"username_or_email": "ada", "password": 1e999}',
        '{"username_or_email": "\\ud800", "password": "x"}',
        '{"username_or_email": "ada", "password": NaN}',
        b'{"username_or_email": "\xff"}',
    ],
    ids=["deep", "infinite-number", "lone-surrogate", "nan", "not-utf8"],
)
def test_anonymous_login_refuses_a_hostile_body_with_a_400(api_client, body):
    # The per-account throttle reads request.data before the view does.
    api_client.raise_request_exception = False

    response = api_client.post("/api/v1/auth/login/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_json_nested_within_the_limit_still_parses(auth_client):
    nested = '{"variables": {"name": ' + "[" * 60 + "]" * 60 + "}}"
    template = auth_client.post("/api/v1/templates/", {"title": "t", "content": "Hi {{name}}"}).json()

    response = auth_client.post(
        f"/api/v1/templates/{template['id']}/render/", data=nested, content_type="application/json"
    )

    # Parsed, then refused by the variable's own rules (a list is not text).
    assert response.status_code == 400
    assert "variables" in response.json()


def test_a_deep_body_to_the_session_endpoint_is_a_400(user):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value

    response = client.post("/session/", data=DEEP_OBJECT, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert token_pair_issue(user=user)  # the server still serves


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "a\x00"},
        {"variable_specs": "[" * 1000},
        {"variable_specs": '{"name": {"label": "\\ud800"}}'},
        {"variable_specs": '{"name": {"type": "number", "default": 1e999}}'},
    ],
    ids=["nul-category", "deep-specs", "lone-surrogate-specs", "infinite-default"],
)
def test_a_template_posted_as_a_form_with_bad_fields_is_a_400(auth_client, fields):
    auth_client.raise_request_exception = False

    response = auth_client.post(
        "/api/v1/templates/", {"title": "t", "content": "Hi {{name}}", **fields}, format="multipart"
    )

    assert response.status_code == 400
    assert set(response.json()) == set(fields)
    assert not PromptTemplate.objects.exists()


def test_a_template_posted_as_a_form_is_created(auth_client):
    response = auth_client.post(
        "/api/v1/templates/",
        {"title": "t", "content": "Hi {{name}}", "tags": ["greeting"], "variable_specs": '{"name": {"label": "Name"}}'},
        format="multipart",
    )

    assert response.status_code == 201
    assert response.json()["variables"][0]["label"] == "Name"
    assert response.json()["tags"] == ["greeting"]


@pytest.mark.parametrize(
    "cases",
    ["[" * 1000, '[{"input": {"text": "\\ud800"}, "checks": [{"type": "contains", "value": "x"}]}]'],
    ids=["deep", "lone-surrogate"],
)
def test_a_challenge_posted_as_a_form_with_bad_cases_is_a_400(auth_client, cases):
    auth_client.raise_request_exception = False
    form = {"title": "t", "brief": "b", "technique": "few-shot", "difficulty": "beginner", "cases": cases}

    response = auth_client.post("/api/v1/challenges/", form, format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["cases"]
