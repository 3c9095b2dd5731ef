"""Deleting an account without a password (a fresh sign-in with its provider), and its open sockets closing."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from allauth.socialaccount.models import SocialAccount
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import privacy
from accounts.services import token_pair_issue
from config.asgi import application
from tests.fakes.oidc import FakeUser

User = get_user_model()
ME = "/api/v1/auth/me/"
REAUTH = "/api/v1/auth/social/fakeid/reauth/"
REDIRECT_URI = "http://127.0.0.1:9999/app/callback"
VERIFIER = "v" * 43


def _code(fake_oidc) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    return fake_oidc.code_for(redirect_uri=REDIRECT_URI, code_challenge=challenge)


def _credential(fake_oidc) -> dict:
    return {"code": _code(fake_oidc), "redirect_uri": REDIRECT_URI, "code_verifier": VERIFIER}


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _social_sign_up(fake_oidc) -> tuple[object, APIClient]:
    body = APIClient().post("/api/v1/auth/social/fakeid/", _credential(fake_oidc), format="json").json()
    return User.objects.get(pk=body["user"]["id"]), _bearer(body["access"])


@pytest.mark.django_db
def test_a_social_only_account_deletes_itself_after_signing_in_again_with_its_provider(
    fake_oidc, django_capture_on_commit_callbacks
):
    user, client = _social_sign_up(fake_oidc)
    assert not user.has_usable_password()

    refused = client.delete(ME, {}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["confirmation"]

    answer = client.post(REAUTH, _credential(fake_oidc), format="json")
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == 600
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.delete(ME, {"confirmation": answer.json()["confirmation"]}, format="json")

    assert deleted.status_code == 204
    user.refresh_from_db()
    assert not user.is_active and user.username.startswith("deleted-") and user.email.endswith("@deleted.invalid")
    assert SocialAccount.objects.filter(user=user).count() == 0
    # The identity no longer signs into anything: it is free, and signs up anew.
    again = APIClient().post("/api/v1/auth/social/fakeid/", _credential(fake_oidc), format="json")
    assert again.status_code == 201
    assert again.json()["user"]["id"] != str(user.pk)


@pytest.mark.django_db
def test_a_confirmation_works_only_for_its_own_account_and_while_fresh(fake_oidc, make_user, settings):
    user, client = _social_sign_up(fake_oidc)
    token = client.post(REAUTH, _credential(fake_oidc), format="json").json()["confirmation"]
    other = make_user("bob")
    other_client = _bearer(str(RefreshToken.for_user(other).access_token))
    assert other_client.delete(ME, {"confirmation": token}, format="json").status_code == 400  # bob has a password
    assert list(other_client.delete(ME, {"confirmation": token}, format="json").json()) == ["password"]

    settings.ACCOUNT_DELETE_REAUTH_SECONDS = -1  # expired
    stale = client.delete(ME, {"confirmation": token}, format="json")
    assert stale.status_code == 400 and list(stale.json()) == ["confirmation"]
    assert client.delete(ME, {"confirmation": "forged"}, format="json").status_code == 400
    user.refresh_from_db()
    assert user.is_active


@pytest.mark.django_db
def test_reauthenticating_with_an_identity_not_linked_to_the_account_is_refused(fake_oidc, make_user):
    _, client = _social_sign_up(fake_oidc)
    fake_oidc.user = FakeUser(sub="someone-else", email="else@example.com", preferred_username="else")

    answer = client.post(REAUTH, _credential(fake_oidc), format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "not_linked"


@pytest.mark.django_db
def test_the_browser_round_trip_with_reauth_brings_a_confirmation_back_to_the_settings_page(fake_oidc):
    user, client = _social_sign_up(fake_oidc)
    browser = Client()
    access = client._credentials["HTTP_AUTHORIZATION"]

    start = browser.post("/social/fakeid/reauth/", HTTP_AUTHORIZATION=access)
    assert start.status_code == 200
    approved = httpx.get(start.json()["url"], follow_redirects=False)
    callback = urlsplit(approved.headers["Location"])
    back = browser.get(f"{callback.path}?{callback.query}")

    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    assert location.path == "/settings/" and not location.query  # the token is in the fragment only
    token = parse_qs(location.fragment)["delete_confirmation"][0]
    assert privacy.confirmation_valid(user=user, token=token)
    # The state worked once.
    assert browser.get(f"{callback.path}?{callback.query}").headers["Location"].endswith("social_error=invalid_state")


@pytest.mark.django_db(transaction=True)
async def test_deletion_closes_every_open_socket_of_the_account_with_4401(make_user):
    user = await database_sync_to_async(make_user)("alice")
    pair = await database_sync_to_async(token_pair_issue)(user=user)
    sockets = []
    for path in ("/ws/events/", "/ws/playground/"):
        socket = WebsocketCommunicator(application, path)
        assert (await socket.connect())[0]
        await socket.send_json_to({"type": "auth", "token": pair.access})
        assert (await socket.receive_json_from(timeout=3))["type"] == "auth.ok"
        sockets.append(socket)

    response = await database_sync_to_async(_bearer(pair.access).delete)(
        ME, {"password": "Str0ng-pass-phrase!"}, format="json"
    )

    assert response.status_code == 204
    for socket in sockets:
        assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    # Its access token opens no new socket.
    again = WebsocketCommunicator(application, "/ws/events/")
    await again.connect()
    await again.send_json_to({"type": "auth", "token": pair.access})
    assert (await again.receive_json_from(timeout=3))["type"] == "error"
    assert await again.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    erased = await database_sync_to_async(User.objects.get)(pk=user.pk)
    assert erased.username.startswith("deleted-")  # the erasure ran once the deletion committed
