"""The browser's provider round trip (/social/<provider>/…) with Django's test client and the fake OIDC provider."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from tests.fakes.oidc import FakeUser
from web.session_views import COOKIE_NAME

User = get_user_model()


def _provider_redirect(client: Client, start) -> str:
    """Start the flow, let the fake provider approve, and return the callback URL it redirects to."""
    authorize = start.headers["Location"] if hasattr(start, "headers") else start
    answer = httpx.get(authorize, follow_redirects=False)
    assert answer.status_code == 302
    return answer.headers["Location"]


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.django_db
def test_the_sign_in_pages_show_a_button_per_provider(fake_oidc):
    for page in ("/login/", "/signup/"):
        html = Client().get(page + "?next=/library/").content.decode()
        assert 'data-social-provider="fakeid"' in html
        assert "Continue with Fake ID" in html
        assert "/social/fakeid/login/?next=%2Flibrary%2F" in html


@pytest.mark.django_db
def test_no_provider_no_buttons(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert "data-social-provider" not in Client().get("/login/").content.decode()


@pytest.mark.django_db
def test_the_round_trip_signs_up_and_sets_the_refresh_cookie(fake_oidc):
    client = Client()
    start = client.get("/social/fakeid/login/?next=/library/")
    assert start.status_code == 302
    params = _query(start.headers["Location"])
    assert start.headers["Location"].startswith(f"{fake_oidc.issuer}/authorize?")
    assert params["redirect_uri"] == "http://testserver/social/fakeid/callback/"
    assert params["code_challenge_method"] == "S256" and params["state"]

    callback = client.get(_path_of(_provider_redirect(client, start)))

    assert callback.status_code == 302
    assert callback.headers["Location"] == "/library/"
    cookie = callback.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["path"] == "/session/"
    user = User.objects.get(email="sam@example.com")
    assert RefreshToken(cookie.value)["user_id"] == str(user.pk)
    assert user.email_verified and user.credits == 100
    assert client.post("/session/token/").status_code == 200  # the page gets its access token


@pytest.mark.django_db
def test_a_tampered_state_is_refused(fake_oidc):
    client = Client()
    callback_url = _provider_redirect(client, client.get("/social/fakeid/login/"))
    query = _query(callback_url)

    callback = client.get("/social/fakeid/callback/", {"code": query["code"], "state": query["state"] + "x"})

    assert callback.headers["Location"] == "/login/?social_error=invalid_state"
    assert COOKIE_NAME not in callback.cookies
    assert fake_oidc.codes_redeemed == []  # the code was never exchanged
    assert not User.objects.exists()


@pytest.mark.django_db
def test_another_browsers_state_is_refused(fake_oidc):
    callback_url = _provider_redirect(Client(), Client().get("/social/fakeid/login/"))

    callback = Client().get(_path_of(callback_url))

    assert callback.headers["Location"] == "/login/?social_error=invalid_state"
    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_replayed_callback_is_refused(fake_oidc):
    client = Client()
    callback_url = _path_of(_provider_redirect(client, client.get("/social/fakeid/login/")))
    assert client.get(callback_url).headers["Location"] == "/"

    replay = client.get(callback_url)

    assert replay.headers["Location"] == "/login/?social_error=invalid_state"
    assert COOKIE_NAME not in replay.cookies


@pytest.mark.django_db
def test_an_unverified_email_of_an_existing_account_is_not_taken_over(fake_oidc, make_user):
    victim = make_user("victim", email="victim@example.com")
    fake_oidc.user = FakeUser(sub="attacker", email="victim@example.com", email_verified=False)
    client = Client()

    callback = client.get(_path_of(_provider_redirect(client, client.get("/social/fakeid/login/"))))

    assert callback.headers["Location"] == "/login/?social_error=account_exists"
    assert COOKIE_NAME not in callback.cookies
    assert not SocialAccount.objects.exists()
    assert list(User.objects.values_list("pk", flat=True)) == [victim.pk]


@pytest.mark.django_db
def test_linking_from_the_profile_needs_the_bearer_and_links_the_caller(fake_oidc, user):
    client = Client()
    assert client.post("/social/fakeid/link/").status_code == 401
    access = str(RefreshToken.for_user(user).access_token)
    fake_oidc.user = FakeUser(sub="alice-sub", email="alice-elsewhere@example.com")

    start = client.post("/social/fakeid/link/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert start.status_code == 200
    callback = client.get(_path_of(_provider_redirect(client, start.json()["url"])))

    assert callback.headers["Location"] == "/profile/?linked=fakeid"
    assert SocialAccount.objects.get().user == user
    assert COOKIE_NAME not in callback.cookies


@pytest.mark.django_db
@pytest.mark.parametrize(("back", "page"), [("settings", "/settings/"), ("https://evil.example/", "/profile/")])
def test_a_link_started_from_the_settings_page_comes_back_there_and_nowhere_else(fake_oidc, user, back, page):
    client = Client()
    access = str(RefreshToken.for_user(user).access_token)

    start = client.post(f"/social/fakeid/link/?back={back}", HTTP_AUTHORIZATION=f"Bearer {access}")
    callback = client.get(_path_of(_provider_redirect(client, start.json()["url"])))

    assert callback.headers["Location"] == f"{page}?linked=fakeid"
