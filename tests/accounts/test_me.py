import pytest

URL = "/api/v1/auth/me/"


@pytest.mark.django_db
def test_me_returns_the_callers_profile(auth_client, user):
    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "username": "alice",
        "email": "alice@example.com",
        "email_verified": True,
        "first_name": "Test",
        "last_name": "User",
        "credits": 100,
        "level": 1,
        "experience_points": 0,
        "user_rank": "Prompt Novice",
        "timezone": "UTC",
        "bio": "",
        "avatar_url": None,
        "date_joined": response.json()["date_joined"],
    }


@pytest.mark.django_db
def test_me_needs_authentication(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


@pytest.mark.django_db
def test_patch_changes_the_editable_fields(auth_client, user):
    response = auth_client.patch(
        URL,
        {
            "first_name": "Alice",
            "last_name": "Liddell",
            "email": "alice@wonder.land",
            "timezone": "Europe/Paris",
            "bio": "Curiouser and curiouser.",
        },
        format="json",
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email, user.timezone, user.bio) == (
        "Alice",
        "Liddell",
        "alice@wonder.land",
        "Europe/Paris",
        "Curiouser and curiouser.",
    )
    assert response.json()["timezone"] == "Europe/Paris"


@pytest.mark.django_db
def test_patch_cannot_set_counters_identity_or_privileges(auth_client, user):
    response = auth_client.patch(
        URL,
        {
            "id": "00000000-0000-0000-0000-000000000000",
            "username": "root",
            "credits": 1_000_000,
            "level": 99,
            "experience_points": 123456,
            "user_rank": "Prompt Legend",
            "date_joined": "2000-01-01T00:00:00Z",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "password": "x",
        },
        format="json",
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.username, user.credits, user.level, user.experience_points, user.user_rank) == (
        "alice",
        100,
        1,
        0,
        "Prompt Novice",
    )
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    assert user.check_password("Str0ng-pass-phrase!")
    assert response.json()["credits"] == 100


@pytest.mark.django_db
def test_patch_refuses_an_email_another_user_has(auth_client, make_user):
    make_user("bob", email="Bob@Example.com")

    response = auth_client.patch(URL, {"email": "bob@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["A user with that email already exists."]}


@pytest.mark.django_db
def test_patch_may_keep_ones_own_email(auth_client):
    response = auth_client.patch(URL, {"email": "ALICE@example.com"}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db
def test_patch_validates_fields(auth_client):
    response = auth_client.patch(URL, {"timezone": "Mars/Olympus", "email": "", "bio": "x" * 501}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "timezone": ["Unknown time zone; use an IANA name such as Europe/Paris."],
        "email": ["This field may not be blank."],
        "bio": ["Ensure this field has no more than 500 characters."],
    }


@pytest.mark.django_db
def test_put_is_not_allowed_and_delete_asks_for_the_password(auth_client, user):
    assert auth_client.put(URL, {}, format="json").status_code == 405
    response = auth_client.delete(URL)
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    user.refresh_from_db()
    assert user.is_active and user.deleted_at is None
