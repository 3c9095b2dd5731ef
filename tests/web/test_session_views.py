"""`/session/…`: the refresh token kept in an HttpOnly cookie, rotated, CSRF-checked, blacklisted on logout."""

import json

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import token_pair_issue

pytestmark = pytest.mark.django_db


def _csrf_client() -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    return client, client.cookies["csrftoken"].value


def _post(client: Client, path: str, csrf: str, body: dict | None = None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)


def test_opening_a_session_stores_the_refresh_token_in_an_http_only_strict_cookie(user):
    # given a refresh token from a login
    pair = token_pair_issue(user=user)
    client, csrf = _csrf_client()

    # when the page hands it over
    response = _post(client, "/session/", csrf, {"refresh": pair.refresh})

    # then it is kept in a cookie scripts cannot read, sent only to the session endpoints
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    cookie = response.cookies["pc_refresh"]
    assert cookie.value == pair.refresh
    assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == (True, "Strict", "/session/")


def test_the_token_endpoint_gives_access_tokens_from_a_fresh_refresh_token_without_rotating_it(user):
    # given a session opened just now
    pair = token_pair_issue(user=user)
    client, csrf = _csrf_client()
    _post(client, "/session/", csrf, {"refresh": pair.refresh})

    # when pages ask for access tokens several times
    answers = [_post(client, "/session/token/", csrf) for _ in range(3)]

    # then each gets a valid one for the user, and the cookie keeps the same refresh token
    for answer in answers:
        assert answer.status_code == 200
        assert str(AccessToken(answer.json()["access"])["user_id"]) == str(user.pk)
        assert answer.cookies["pc_refresh"].value == pair.refresh


@override_settings(WEB_SESSION_ROTATE_SECONDS=0)
def test_the_token_endpoint_rotates_an_older_refresh_token_and_refuses_the_used_one(user):
    # given an open session whose refresh token is due for rotation
    pair = token_pair_issue(user=user)
    client, csrf = _csrf_client()
    _post(client, "/session/", csrf, {"refresh": pair.refresh})

    # when the page asks for an access token
    response = _post(client, "/session/token/", csrf)

    # then it gets one, and the cookie now holds a new refresh token
    assert response.status_code == 200
    assert set(response.json()) == {"access"}
    assert response.cookies["pc_refresh"].value not in ("", pair.refresh)

    # and the old refresh token no longer works (it was blacklisted by the rotation)
    replay = Client(enforce_csrf_checks=True)
    replay.get("/login/")
    replay.cookies["pc_refresh"] = pair.refresh
    refused = _post(replay, "/session/token/", replay.cookies["csrftoken"].value)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Token is blacklisted", "code": "not_authenticated"}
    assert "pc_refresh" not in refused.cookies  # a concurrent tab's fresh cookie is not wiped


def test_the_session_endpoints_refuse_requests_without_the_csrf_token(user):
    # given a browser holding a session cookie
    client, csrf = _csrf_client()
    _post(client, "/session/", csrf, {"refresh": token_pair_issue(user=user).refresh})

    # when another site's form posts to the token endpoint (no CSRF header)
    response = client.post("/session/token/", data="{}", content_type="application/json")

    # then it is refused
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body", [{}, {"refresh": ""}, {"refresh": 12}, {"refresh": "not-a-jwt"}, {"refresh": "x" * 5000}, [1]]
)
def test_opening_a_session_with_a_bad_token_is_a_401(body):
    client, csrf = _csrf_client()

    response = _post(client, "/session/", csrf, body)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_malformed_body_is_a_400():
    client, csrf = _csrf_client()

    response = client.post("/session/", data="{nope", content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 400
    assert response.json() == {"detail": "The body is not valid JSON.", "code": "parse_error"}


def test_an_inactive_user_gets_no_access_token(user):
    # given an open session of a user who is then deactivated
    client, csrf = _csrf_client()
    _post(client, "/session/", csrf, {"refresh": token_pair_issue(user=user).refresh})
    user.is_active = False
    user.save(update_fields=["is_active"])

    # when the page asks for an access token, it is refused
    response = _post(client, "/session/token/", csrf)

    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token.", "code": "not_authenticated"}


def test_logging_out_blacklists_the_refresh_token_and_drops_the_cookie(user):
    # given an open session
    pair = token_pair_issue(user=user)
    client, csrf = _csrf_client()
    _post(client, "/session/", csrf, {"refresh": pair.refresh})

    # when the page logs out
    response = _post(client, "/session/logout/", csrf)

    # then the cookie is dropped and the token cannot be used any more
    assert response.status_code == 205
    assert response.cookies["pc_refresh"].value == ""
    client.cookies["pc_refresh"] = pair.refresh
    assert _post(client, "/session/token/", csrf).status_code == 401


def test_asking_for_a_token_without_a_session_is_a_401_saying_so():
    client, csrf = _csrf_client()

    response = _post(client, "/session/token/", csrf)

    assert response.status_code == 401
    assert response.json() == {"detail": "Not logged in.", "code": "no_session"}


def test_the_session_endpoints_only_accept_post():
    client = Client()

    assert client.get("/session/token/").status_code == 405


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.text(max_size=30) | st.integers(),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["refresh", "x"]), inner, max_size=2)
            ),
            max_leaves=6,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_no_body_sent_to_the_session_endpoints_gets_a_server_error(body):
    client, csrf = _csrf_client()

    for path in ("/session/", "/session/token/", "/session/logout/"):
        response = client.post(path, data=body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
        assert response.status_code in (200, 205, 400, 401), (path, body, response.status_code)
