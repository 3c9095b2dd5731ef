import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services

URL = "/api/v1/auth/login/"
PASSWORD = "Str0ng-pass-phrase!"
BAD_CREDENTIALS = {"detail": "No active account found with the given credentials.", "code": "invalid_credentials"}


@pytest.mark.django_db
def test_login_by_username_returns_the_profile_and_a_token_pair(api_client, user):
    response = api_client.post(URL, {"username_or_email": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == str(user.pk)
    assert body["user"]["credits"] == 100
    assert AccessToken(body["access"])["user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.django_db
def test_login_by_email_in_any_case(api_client, user):
    response = api_client.post(URL, {"username_or_email": "ALICE@example.com", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"


@pytest.mark.django_db
def test_login_by_username_ignores_case(api_client, user):
    response = api_client.post(URL, {"username_or_email": "Alice", "password": PASSWORD}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db
def test_wrong_password_and_unknown_user_get_the_same_401(api_client, user):
    wrong_password = api_client.post(URL, {"username_or_email": "alice", "password": "nope-nope-1"}, format="json")
    unknown_user = api_client.post(URL, {"username_or_email": "mallory", "password": PASSWORD}, format="json")
    unknown_email = api_client.post(URL, {"username_or_email": "m@example.com", "password": PASSWORD}, format="json")

    for response in (wrong_password, unknown_user, unknown_email):
        assert response.status_code == 401
        assert response.json() == BAD_CREDENTIALS
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_inactive_user_cannot_log_in_and_gets_the_same_401(api_client, make_user):
    make_user("sleeper", is_active=False)

    response = api_client.post(URL, {"username_or_email": "sleeper", "password": PASSWORD}, format="json")

    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


class CountingHasher(PBKDF2PasswordHasher):
    """Records every password it hashes."""

    iterations = 1
    hashed: list[str] = []

    def encode(self, password, salt, iterations=None):
        self.hashed.append(password)
        return super().encode(password, salt, iterations)


@pytest.mark.django_db
def test_unknown_user_still_runs_the_password_hasher(settings):
    # Timing is not measured (no timed tests); instead prove the same hashing work is done.
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.hashed.clear()

    with pytest.raises(services.InvalidCredentials):
        services.user_authenticate(username_or_email="nobody", password="guess-1234")

    assert CountingHasher.hashed == ["guess-1234"]


@pytest.mark.django_db
def test_missing_fields_are_400(api_client):
    response = api_client.post(URL, {"username_or_email": ""}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "username_or_email": ["This field may not be blank."],
        "password": ["This field is required."],
    }


@pytest.mark.django_db
def test_a_stale_authorization_header_does_not_block_login(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    response = api_client.post(URL, {"username_or_email": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db
def test_an_email_shaped_identifier_only_matches_emails(api_client, make_user, user):
    # An account created outside registration (e.g. the admin) with an email-like username.
    make_user("alice@example.org", email="other@example.com", password="Other-pass-phrase-1")

    by_email = api_client.post(URL, {"username_or_email": "alice@example.com", "password": PASSWORD}, format="json")
    by_odd_username = api_client.post(
        URL, {"username_or_email": "alice@example.org", "password": "Other-pass-phrase-1"}, format="json"
    )

    assert by_email.status_code == 200
    assert by_email.json()["user"]["username"] == "alice"
    assert by_odd_username.status_code == 401
