import threading
import uuid
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tasks import expired_tokens_flush

REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
BAD_REFRESH = {"detail": "Token is invalid, expired or already used.", "code": "token_not_valid"}


def me_with(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(ME)


@pytest.mark.django_db
def test_refresh_rotates_and_the_old_token_is_blacklisted(api_client, user):
    old = RefreshToken.for_user(user)

    response = api_client.post(REFRESH, {"refresh": str(old)}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert RefreshToken(body["refresh"])["jti"] != old["jti"]
    assert me_with(body["access"]).status_code == 200
    assert BlacklistedToken.objects.filter(token__jti=old["jti"]).exists()


@pytest.mark.django_db
def test_reusing_a_rotated_refresh_token_is_401(api_client, user):
    old = str(RefreshToken.for_user(user))
    assert api_client.post(REFRESH, {"refresh": old}, format="json").status_code == 200

    response = api_client.post(REFRESH, {"refresh": old}, format="json")

    assert response.status_code == 401
    assert response.json() == BAD_REFRESH


@pytest.mark.django_db
def test_the_rotated_token_refreshes_again(api_client, user):
    first = api_client.post(REFRESH, {"refresh": str(RefreshToken.for_user(user))}, format="json").json()

    second = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert second.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_reuse_of_one_refresh_token_lets_exactly_one_win(make_user):
    user = make_user("racer")
    token = str(RefreshToken.for_user(user))
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    lock = threading.Lock()

    def use_token():
        try:
            client = APIClient()
            barrier.wait()
            status = client.post(REFRESH, {"refresh": token}, format="json").status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=use_token) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [401] * (threads_count - 1)
    # One rotation: the original plus exactly one new outstanding token.
    assert OutstandingToken.objects.filter(user=user).count() == 2
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1


@pytest.mark.django_db
def test_refresh_is_refused_for_an_inactive_user(api_client, user):
    token = str(RefreshToken.for_user(user))
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = api_client.post(REFRESH, {"refresh": token}, format="json")

    assert response.status_code == 401
    assert response.json() == BAD_REFRESH


@pytest.mark.django_db
def test_access_token_cannot_be_used_to_refresh(api_client, user):
    access = str(RefreshToken.for_user(user).access_token)

    response = api_client.post(REFRESH, {"refresh": access}, format="json")

    assert response.status_code == 401


@pytest.mark.django_db
def test_refresh_with_garbage_or_nothing(api_client):
    garbage = api_client.post(REFRESH, {"refresh": "garbage"}, format="json")
    missing = api_client.post(REFRESH, {}, format="json")

    assert garbage.status_code == 401
    assert garbage.json() == BAD_REFRESH
    assert missing.status_code == 400
    assert missing.json() == {"refresh": ["This field is required."]}


@pytest.mark.django_db
def test_logout_blacklists_the_refresh_token(api_client, user):
    token = str(RefreshToken.for_user(user))

    response = api_client.post(LOGOUT, {"refresh": token}, format="json")

    assert response.status_code == 205
    assert response.content == b""
    assert api_client.post(REFRESH, {"refresh": token}, format="json").status_code == 401
    assert api_client.post(LOGOUT, {"refresh": token}, format="json").status_code == 401


@pytest.mark.django_db
def test_logout_keeps_the_users_other_sessions(api_client, user):
    phone = str(RefreshToken.for_user(user))
    laptop = str(RefreshToken.for_user(user))

    api_client.post(LOGOUT, {"refresh": phone}, format="json")

    assert api_client.post(REFRESH, {"refresh": laptop}, format="json").status_code == 200


# --- Access token edge cases ------------------------------------------------------------------


def _claims(user, **extra):
    token = AccessToken.for_user(user)
    return {**token.payload, **extra}


@pytest.mark.django_db
def test_access_token_with_a_bad_signature_is_401(user):
    forged = jwt.encode(_claims(user), "not-the-signing-key-but-long-enough-for-hs256!!", algorithm="HS256")

    response = me_with(forged)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_access_token_with_alg_none_is_401(user):
    unsigned = jwt.encode(_claims(user), None, algorithm="none")

    response = me_with(unsigned)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_expired_access_token_is_401(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))

    response = me_with(str(token))

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_refresh_token_used_as_access_token_is_401(user):
    response = me_with(str(RefreshToken.for_user(user)))

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_access_token_of_an_inactive_user_is_401(user):
    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = me_with(token)

    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


@pytest.mark.django_db
def test_correctly_signed_token_for_an_unknown_user_is_401(user):
    token = AccessToken.for_user(user)
    token["user_id"] = str(uuid.uuid4())

    response = me_with(str(token))

    assert response.status_code == 401


@pytest.mark.django_db
def test_malformed_authorization_headers_are_401(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer a b")
    two_values = client.get(ME)
    client.credentials(HTTP_AUTHORIZATION="Bearer \u00e9t\u00e9")
    non_ascii = client.get(ME)
    no_header = APIClient().get(ME)

    assert two_values.status_code == 401
    assert non_ascii.status_code == 401
    assert no_header.status_code == 401


def test_access_tokens_are_short_lived_by_default():
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == timedelta(minutes=15)
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] == timedelta(days=30)


@pytest.mark.django_db
def test_expired_refresh_tokens_are_flushed_and_live_ones_kept(user):
    live = RefreshToken.for_user(user)
    old = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=old["jti"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    BlacklistedToken.objects.create(token=OutstandingToken.objects.get(jti=old["jti"]))

    flushed = expired_tokens_flush.delay().get()

    assert flushed == 1
    assert not BlacklistedToken.objects.exists()
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
