"""Social sign-in over REST against a fake OpenID Connect provider (tests/fakes/oidc.py)."""

import time

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.fakes.oidc import FakeUser

User = get_user_model()
URL = "/api/v1/auth/social/fakeid/"
REDIRECT_URI = "http://127.0.0.1:9999/app/callback"
VERIFIER = "v" * 43


def _challenge(verifier: str) -> str:
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _code(fake_oidc, verifier: str = VERIFIER) -> str:
    return fake_oidc.code_for(redirect_uri=REDIRECT_URI, code_challenge=_challenge(verifier))


def _exchange(client: APIClient, code: str, verifier: str = VERIFIER, url: str = URL):
    body = {"code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    return client.post(url, body, format="json")


@pytest.mark.django_db(transaction=True)
def test_a_code_signs_up_a_verified_learner_with_the_registration_onboarding(api_client, fake_oidc, mailoutbox):
    response = _exchange(api_client, _code(fake_oidc))

    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(email="sam@example.com")
    assert body["user"]["username"] == "sam"
    assert body["user"]["email_verified"] is True
    assert (body["user"]["credits"], body["user"]["level"], body["user"]["user_rank"]) == (100, 1, "Prompt Novice")
    assert (user.first_name, user.last_name) == ("Sam", "Social")
    assert AccessToken(body["access"])["user_id"] == str(user.pk)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.pk)
    assert not user.has_usable_password()
    link = SocialAccount.objects.get(user=user)
    assert (link.provider, link.uid) == ("fakeid", "fake-sub-1")
    assert mailoutbox == []  # the provider vouched for the address: no verification link


@pytest.mark.django_db(transaction=True)
def test_an_unverified_provider_email_goes_through_the_normal_verification(api_client, fake_oidc, mailoutbox):
    fake_oidc.user = FakeUser(sub="u2", email="una@example.com", email_verified=False, preferred_username="una")

    response = _exchange(api_client, _code(fake_oidc))

    assert response.status_code == 201
    assert response.json()["user"]["email_verified"] is False
    assert [m.to for m in mailoutbox] == [["una@example.com"]]
    assert "/verify-email/?token=" in mailoutbox[0].body


@pytest.mark.django_db
def test_a_linked_identity_signs_into_its_account_again(api_client, fake_oidc):
    first = _exchange(api_client, _code(fake_oidc)).json()

    again = _exchange(api_client, _code(fake_oidc))

    assert again.status_code == 200
    assert again.json()["user"]["id"] == first["user"]["id"]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_a_replayed_code_is_refused(api_client, fake_oidc):
    code = _code(fake_oidc)
    assert _exchange(api_client, code).status_code == 201

    replay = _exchange(api_client, code)

    assert replay.status_code == 400
    assert replay.json()["code"] == "invalid_code"
    assert fake_oidc.token_errors == ["invalid_grant"]


@pytest.mark.django_db
def test_a_wrong_pkce_verifier_is_refused(api_client, fake_oidc):
    response = _exchange(api_client, _code(fake_oidc), verifier="w" * 43)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_an_id_token_signs_in(api_client, fake_oidc):
    response = api_client.post(URL, {"id_token": fake_oidc.id_token()}, format="json")

    assert response.status_code == 201
    assert response.json()["user"]["email"] == "sam@example.com"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"exp": int(time.time()) - 60, "iat": int(time.time()) - 400},
        {"iss": "http://127.0.0.1:1/not-the-issuer"},
    ],
    ids=["wrong-audience", "expired", "wrong-issuer"],
)
def test_an_id_token_not_for_this_site_is_refused(api_client, fake_oidc, claims):
    response = api_client.post(URL, {"id_token": fake_oidc.id_token(**claims)}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_a_tampered_id_token_is_refused(api_client, fake_oidc):
    header, payload, signature = fake_oidc.id_token().split(".")
    forged = fake_oidc.id_token(sub="admin").split(".")[1]
    assert forged != payload

    response = api_client.post(URL, {"id_token": f"{header}.{forged}.{signature}"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


@pytest.mark.django_db
def test_a_replayed_id_token_is_refused(api_client, fake_oidc):
    token = fake_oidc.id_token()
    assert api_client.post(URL, {"id_token": token}, format="json").status_code == 201

    replay = api_client.post(URL, {"id_token": token}, format="json")

    assert replay.status_code == 400
    assert replay.json()["code"] == "invalid_token"


@pytest.mark.django_db
@pytest.mark.parametrize("verified", [False, True])
def test_a_provider_email_of_an_existing_account_is_never_linked(api_client, fake_oidc, make_user, verified):
    victim = make_user("victim", email="victim@example.com")
    fake_oidc.user = FakeUser(sub="attacker", email="Victim@Example.com", email_verified=verified)

    response = _exchange(api_client, _code(fake_oidc))

    assert response.status_code == 400
    assert response.json()["code"] == "account_exists"
    assert "access" not in response.json()
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == 1
    victim.refresh_from_db()
    assert victim.check_password("Str0ng-pass-phrase!")


@pytest.mark.django_db
def test_a_signed_in_user_links_a_provider_and_then_signs_in_with_it(fake_oidc, user, auth_client, api_client):
    fake_oidc.user = FakeUser(sub="alice-sub", email=user.email, email_verified=False)

    linked = _exchange(auth_client, _code(fake_oidc), url=URL + "link/")

    assert linked.status_code == 201
    assert linked.json()["provider"] == "fakeid"
    signed_in = _exchange(api_client, _code(fake_oidc))
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["id"] == str(user.pk)
    status = auth_client.get("/api/v1/auth/social/").json()
    assert status["providers"] == [{"id": "fakeid", "name": "Fake ID"}]
    assert [(link["provider"], link["email"]) for link in status["links"]] == [("fakeid", user.email)]
    assert status["has_password"] is True


@pytest.mark.django_db
def test_an_identity_linked_elsewhere_cannot_be_linked_again(fake_oidc, make_user, auth_client, api_client):
    _exchange(api_client, _code(fake_oidc))  # sam's own account

    response = _exchange(auth_client, _code(fake_oidc), url=URL + "link/")

    assert response.status_code == 400
    assert response.json()["code"] == "already_linked"


@pytest.mark.django_db
def test_link_needs_a_signed_in_user(api_client, fake_oidc):
    assert _exchange(api_client, _code(fake_oidc), url=URL + "link/").status_code == 401


@pytest.mark.django_db
def test_the_last_way_in_cannot_be_unlinked_until_a_password_is_set(api_client, fake_oidc):
    body = _exchange(api_client, _code(fake_oidc)).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    link_id = api_client.get("/api/v1/auth/social/").json()["links"][0]["id"]

    refused = api_client.delete(f"/api/v1/auth/social/links/{link_id}/")
    assert refused.status_code == 400
    assert refused.json()["code"] == "last_sign_in"

    user = User.objects.get(pk=body["user"]["id"])
    user.set_password("Str0ng-pass-phrase!")
    user.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    assert api_client.delete(f"/api/v1/auth/social/links/{link_id}/").status_code == 204
    assert not SocialAccount.objects.exists()


@pytest.mark.django_db
def test_another_users_link_is_a_404(fake_oidc, api_client, auth_client):
    _exchange(api_client, _code(fake_oidc))
    link = SocialAccount.objects.get()

    assert auth_client.delete(f"/api/v1/auth/social/links/{link.pk}/").status_code == 404
    assert SocialAccount.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{}, {"code": "x"}, {"code": "x", "id_token": "y", "redirect_uri": REDIRECT_URI}, {"id_token": ["x"]}],
)
def test_bad_bodies_are_field_errors(api_client, fake_oidc, body):
    assert api_client.post(URL, body, format="json").status_code == 400


@pytest.mark.django_db
def test_an_unknown_provider_is_a_404(api_client, fake_oidc):
    response = api_client.post("/api/v1/auth/social/nope/", {"id_token": "x"}, format="json")

    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_social_only_account_sets_its_first_password_by_the_reset_email(api_client, fake_oidc, mailoutbox):
    _exchange(api_client, _code(fake_oidc))
    mailoutbox.clear()

    assert (
        api_client.post("/api/v1/auth/password/reset/", {"email": "sam@example.com"}, format="json").status_code == 202
    )

    assert [m.to for m in mailoutbox] == [["sam@example.com"]]
    query = mailoutbox[0].body.split("/reset-password/?", 1)[1].split()[0]
    uid, token = (part.split("=", 1)[1] for part in query.split("&"))
    body = {
        "uid": uid,
        "token": token,
        "new_password": "A-new-pass-phrase-7",
        "new_password_confirm": "A-new-pass-phrase-7",
    }
    assert api_client.post("/api/v1/auth/password/reset/confirm/", body, format="json").status_code == 200
    assert User.objects.get(email="sam@example.com").check_password("A-new-pass-phrase-7")


@pytest.fixture
def fake_github(fake_oidc, settings, monkeypatch):
    """GitHub's provider pointed at the fake (its endpoints are class attributes, read once at import)."""
    from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter

    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": fake_oidc.client_id, "secret": fake_oidc.client_secret}]}
    }
    monkeypatch.setattr(GitHubOAuth2Adapter, "access_token_url", f"{fake_oidc.issuer}/login/oauth/access_token")
    monkeypatch.setattr(GitHubOAuth2Adapter, "profile_url", f"{fake_oidc.issuer}/api/v3/user")
    monkeypatch.setattr(GitHubOAuth2Adapter, "emails_url", f"{fake_oidc.issuer}/api/v3/user/emails")
    return fake_oidc


@pytest.mark.django_db
@pytest.mark.parametrize("verified", [True, False])
def test_github_signs_up_with_its_verified_flag_from_the_emails_api(api_client, fake_github, verified):
    fake_github.user = FakeUser(
        sub="4242", email="octo@example.com", email_verified=verified, preferred_username="octocat"
    )

    response = _exchange(api_client, _code(fake_github), url="/api/v1/auth/social/github/")

    assert response.status_code == 201
    assert response.json()["user"]["username"] == "octocat"
    assert response.json()["user"]["email"] == "octo@example.com"
    assert response.json()["user"]["email_verified"] is verified
    assert SocialAccount.objects.get().provider == "github"


@pytest.mark.django_db
def test_github_takes_no_id_token(api_client, fake_github):
    response = api_client.post("/api/v1/auth/social/github/", {"id_token": fake_github.id_token()}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


@pytest.mark.django_db
def test_an_unreachable_provider_is_a_provider_error(api_client, fake_oidc):
    code = _code(fake_oidc)
    fake_oidc.stop()

    response = _exchange(api_client, code)

    assert response.status_code == 400
    assert response.json()["code"] == "provider_error"


@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_at_once_make_one_account(fake_oidc):
    import threading

    from django.db import connection

    codes = [_code(fake_oidc), _code(fake_oidc)]
    barrier = threading.Barrier(2)
    answers = []

    def sign_in(code):
        try:
            barrier.wait()
            answers.append(_exchange(APIClient(), code))
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [200, 201]  # the second signs into the first's account
    assert len({a.json()["user"]["id"] for a in answers}) == 1
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == 1
