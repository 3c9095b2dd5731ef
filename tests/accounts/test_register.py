import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

User = get_user_model()
URL = "/api/v1/auth/register/"


def payload(**overrides):
    data = {
        "username": "ada",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "password": "Analytical-Engine-1843",
        "password_confirm": "Analytical-Engine-1843",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_register_creates_a_novice_with_welcome_credits_and_signs_them_in(api_client):
    response = api_client.post(URL, payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(username="ada")
    assert body["user"] == {
        "id": str(user.pk),
        "username": "ada",
        "email": "ada@example.com",
        "email_verified": False,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "credits": 100,
        "level": 1,
        "experience_points": 0,
        "user_rank": "Prompt Novice",
        "timezone": "UTC",
        "bio": "",
        "avatar_url": None,
        "date_joined": body["user"]["date_joined"],
    }
    assert AccessToken(body["access"])["user_id"] == str(user.pk)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.pk)
    assert user.check_password("Analytical-Engine-1843")


@pytest.mark.django_db
def test_registered_user_can_use_the_access_token(api_client):
    access = api_client.post(URL, payload(), format="json").json()["access"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = api_client.get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "ada"


@pytest.mark.django_db
def test_names_are_optional(api_client):
    data = payload()
    del data["first_name"], data["last_name"]

    response = api_client.post(URL, data, format="json")

    assert response.status_code == 201
    assert (response.json()["user"]["first_name"], response.json()["user"]["last_name"]) == ("", "")


@pytest.mark.django_db
def test_missing_fields_are_each_named(api_client):
    response = api_client.post(URL, {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "username": ["This field is required."],
        "email": ["This field is required."],
        "password": ["This field is required."],
        "password_confirm": ["This field is required."],
    }


@pytest.mark.django_db
def test_password_confirm_must_match(api_client):
    response = api_client.post(URL, payload(password_confirm="Analytical-Engine-1844"), format="json")

    assert response.status_code == 400
    assert response.json() == {"password_confirm": ["The two passwords do not match."]}
    assert not User.objects.exists()


@pytest.mark.django_db
def test_short_common_numeric_password_is_refused_with_each_validator_message(api_client):
    response = api_client.post(URL, payload(password="1234", password_confirm="1234"), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "password": [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ]
    }


@pytest.mark.django_db
def test_password_too_similar_to_the_username_is_refused(api_client):
    response = api_client.post(
        URL, payload(username="lovelace1815", password="lovelace1815", password_confirm="lovelace1815"), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"password": ["The password is too similar to the username."]}


@pytest.mark.django_db
def test_email_must_be_valid(api_client):
    response = api_client.post(URL, payload(email="not-an-email"), format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}


@pytest.mark.django_db
def test_email_is_unique_whatever_its_case(api_client, make_user):
    make_user("grace", email="Grace@Example.com")

    response = api_client.post(URL, payload(email="grace@example.COM"), format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["A user with that email already exists."]}


@pytest.mark.django_db
def test_username_is_unique_whatever_its_case(api_client, make_user):
    make_user("Ada", email="first-ada@example.com")

    response = api_client.post(URL, payload(username="aDA"), format="json")

    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}


@pytest.mark.django_db
def test_username_characters_are_checked(api_client):
    response = api_client.post(URL, payload(username="ada lovelace!"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["username"]


@pytest.mark.django_db
def test_malformed_bodies_are_400s(api_client):
    as_list = api_client.post(URL, [1, 2], format="json")
    bad_json = api_client.post(URL, "{not json", content_type="application/json")
    wrong_types = api_client.post(URL, payload(username=["ada"], email={"a": 1}), format="json")

    assert as_list.status_code == 400
    assert as_list.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    assert bad_json.status_code == 400
    assert bad_json.json()["code"] == "parse_error"
    assert wrong_types.status_code == 400
    assert wrong_types.json() == {"username": ["Not a valid string."], "email": ["Enter a valid email address."]}


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_username_create_one_account():
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def register(n: int):
        try:
            barrier.wait()
            response = APIClient().post(URL, payload(email=f"ada{n}@example.com"), format="json")
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in results) == [201] + [400] * (threads_count - 1)
    assert all(body == {"username": ["A user with that username already exists."]} for s, body in results if s == 400)
    assert User.objects.filter(username="ada").count() == 1


@pytest.mark.django_db
def test_username_cannot_contain_an_at_sign(api_client):
    response = api_client.post(URL, payload(username="grace@example.com"), format="json")

    assert response.status_code == 400
    assert response.json() == {"username": ["Usernames cannot contain @ (sign-in uses it to recognise emails)."]}
