"""Personal API keys: created once with the key shown, listed by prefix, revoked, and accepted as Bearer."""

import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.api_keys import key_hash
from accounts.models import PersonalAPIKey

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/auth/api-keys/"
ME = "/api/v1/auth/me/"
CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
OLD = "Str0ng-pass-phrase!"
NEW = "Brand-new-passphrase-42"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def create_key(client: APIClient, **body) -> dict:
    response = client.post(KEYS, {"name": "laptop", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_creation_shows_the_key_once_and_stores_only_its_hash(auth_client, user):
    body = create_key(auth_client)

    assert set(body) == {"id", "name", "prefix", "key", "created_at", "expires_at"}
    assert body["name"] == "laptop" and body["expires_at"] is None
    assert re.fullmatch(r"pc_[A-Za-z0-9_-]{43}", body["key"])
    assert body["prefix"] == body["key"][:11]
    stored = PersonalAPIKey.objects.get(pk=body["id"])
    assert stored.user_id == user.pk
    assert stored.key_hash == key_hash(body["key"])
    stored_text = " ".join(str(value) for value in PersonalAPIKey.objects.values_list().get(pk=body["id"]))
    assert body["key"] not in stored_text


def test_the_list_names_keys_by_prefix_and_never_holds_a_key(auth_client):
    first, second = create_key(auth_client, name="ci"), create_key(auth_client, name="laptop")

    response = auth_client.get(KEYS)

    assert response.status_code == 200
    listed = response.json()["results"]
    assert [(k["id"], k["name"], k["prefix"]) for k in listed] == [
        (second["id"], "laptop", second["prefix"]),
        (first["id"], "ci", first["prefix"]),
    ]
    assert all(set(k) == {"id", "name", "prefix", "created_at", "expires_at"} for k in listed)
    assert first["key"] not in response.content.decode() and second["key"] not in response.content.decode()


def test_a_key_authenticates_the_rest_api(auth_client, user):
    key = create_key(auth_client)["key"]

    response = bearer(key).get(ME)

    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_bad_names_and_past_expiry_are_field_errors(auth_client):
    blank = auth_client.post(KEYS, {"name": "  "}, format="json")
    past = auth_client.post(
        KEYS, {"name": "old", "expires_at": (timezone.now() - timedelta(minutes=1)).isoformat()}, format="json"
    )
    long = auth_client.post(KEYS, {"name": "x" * 101}, format="json")

    assert (blank.status_code, list(blank.json())) == (400, ["name"])
    assert past.status_code == 400 and past.json() == {"expires_at": ["The expiry must be in the future."]}
    assert (long.status_code, list(long.json())) == (400, ["name"])
    assert not PersonalAPIKey.objects.exists()


def test_an_expired_key_is_a_401(auth_client):
    body = create_key(auth_client, expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    assert bearer(body["key"]).get(ME).status_code == 200
    PersonalAPIKey.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = bearer(body["key"]).get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_key_is_a_401_and_leaves_the_list(auth_client):
    body = create_key(auth_client)

    revoked = auth_client.delete(f"{KEYS}{body['id']}/")

    assert revoked.status_code == 204
    assert bearer(body["key"]).get(ME).status_code == 401
    assert auth_client.get(KEYS).json()["results"] == []
    assert auth_client.delete(f"{KEYS}{body['id']}/").status_code == 404


def test_a_made_up_key_is_a_401_not_a_jwt_error(api_client):
    response = bearer("pc_" + "A" * 43).get(ME)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked API key.", "code": "invalid_api_key"}


def test_another_users_key_cannot_be_revoked_or_seen(auth_client, make_user):
    body = create_key(auth_client)
    bob = bearer(create_key(bearer(str(RefreshToken.for_user(make_user("bob")).access_token)))["key"])

    assert bob.delete(f"{KEYS}{body['id']}/").status_code == 404
    assert [k["name"] for k in bob.get(KEYS).json()["results"]] == ["laptop"]
    assert body["id"] not in bob.get(KEYS).content.decode()
    assert bearer(body["key"]).get(ME).status_code == 200


def test_a_password_change_revokes_every_key(auth_client, user):
    keys = [create_key(auth_client)["key"] for _ in range(2)]
    key_client = bearer(keys[0])

    changed = key_client.post(
        CHANGE, {"old_password": OLD, "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )

    assert changed.status_code == 200
    assert [bearer(key).get(ME).status_code for key in keys] == [401, 401]
    assert bearer(changed.json()["access"]).get(KEYS).json()["results"] == []


def test_a_password_reset_revokes_every_key(auth_client, user, django_capture_on_commit_callbacks):
    key = create_key(auth_client)["key"]
    with django_capture_on_commit_callbacks(execute=True):
        APIClient().post(RESET, {"email": user.email}, format="json")
    uid, token = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body).groups()

    confirmed = APIClient().post(
        CONFIRM, {"uid": uid, "token": token, "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )

    assert confirmed.status_code == 200
    assert bearer(key).get(ME).status_code == 401


def test_the_key_is_never_logged(auth_client, caplog):
    caplog.set_level(logging.DEBUG)
    key = create_key(auth_client)["key"]
    bearer(key).get(ME)
    auth_client.get(KEYS)
    bearer(key + "x").get(ME)

    assert key not in caplog.text


def test_anonymous_callers_get_401(api_client):
    assert api_client.get(KEYS).status_code == 401
    assert api_client.post(KEYS, {"name": "x"}, format="json").status_code == 401


def test_the_schema_documents_the_key_endpoints(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    keys = schema["paths"]["/api/v1/auth/api-keys/"]
    assert set(keys) >= {"get", "post"}
    assert set(schema["paths"]["/api/v1/auth/api-keys/{key_id}/"]) >= {"delete"}
    created = keys["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    created_fields = schema["components"]["schemas"][created.rsplit("/", 1)[1]]["properties"]
    assert set(created_fields) == {"id", "name", "prefix", "key", "created_at", "expires_at"}
    listed = keys["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][listed.rsplit("/", 1)[1]]["properties"]["results"]["items"]["$ref"]
    assert "key" not in schema["components"]["schemas"][page.rsplit("/", 1)[1]]["properties"]
    assert schema["components"]["securitySchemes"]["personalApiKey"]["scheme"] == "bearer"
    assert {"personalApiKey": []} in keys["get"]["security"]
    assert {"/v1/models", "/v1/chat/completions"} <= set(schema["paths"])


def test_staff_see_keys_by_prefix_in_the_admin_and_may_revoke_them(auth_client, make_user, client):
    body = create_key(auth_client)
    make_user("root", is_staff=True, is_superuser=True)
    client.force_login(get_user_model().objects.get(username="root"))

    listing = client.get("/admin/accounts/personalapikey/")
    revoked = client.post(
        "/admin/accounts/personalapikey/", {"action": "revoke", "_selected_action": [body["id"]]}, follow=True
    )

    assert listing.status_code == 200
    assert body["prefix"] in listing.content.decode() and body["key"] not in listing.content.decode()
    assert revoked.status_code == 200
    assert bearer(body["key"]).get(ME).status_code == 401
