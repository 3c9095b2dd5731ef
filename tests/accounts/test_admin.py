import pytest
from django.contrib.auth import get_user_model

User = get_user_model()


@pytest.fixture
def staff_client(client, make_user):
    staff = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_user_admin_pages_render(staff_client, user):
    listing = staff_client.get("/admin/accounts/user/?q=alice")
    change = staff_client.get(f"/admin/accounts/user/{user.pk}/change/")
    add = staff_client.get("/admin/accounts/user/add/")

    assert listing.status_code == 200
    assert b"alice@example.com" in listing.content
    assert change.status_code == 200
    assert b"Prompt Novice" in change.content
    assert add.status_code == 200


@pytest.mark.django_db
def test_user_added_in_the_admin_is_onboarded_like_a_registration(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "bea",
            "email": "bea@example.com",
            "usable_password": "true",
            "password1": "Another-str0ng-pass",
            "password2": "Another-str0ng-pass",
        },
    )

    assert response.status_code == 302
    bea = User.objects.get(username="bea")
    assert (bea.credits, bea.level, bea.user_rank) == (100, 1, "Prompt Novice")
    assert bea.check_password("Another-str0ng-pass")


@pytest.mark.django_db
def test_admin_change_form_cannot_edit_counters(staff_client, user):
    page = staff_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert b'name="credits"' not in page.content
    assert b'name="experience_points"' not in page.content
    assert b'name="timezone"' in page.content


@pytest.mark.django_db
def test_admin_refuses_usernames_with_an_at_sign(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "bea@example.com",
            "email": "bea@example.com",
            "usable_password": "true",
            "password1": "Another-str0ng-pass",
            "password2": "Another-str0ng-pass",
        },
    )

    assert response.status_code == 200
    assert b"Usernames cannot contain @" in response.content
    assert not User.objects.filter(email="bea@example.com").exists()


def admin_login(client, username: str, password: str = "wrong-password"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


@pytest.mark.django_db
def test_admin_sign_in_attempts_for_one_account_are_limited(client, make_user):
    make_user("root", is_staff=True, is_superuser=True)

    statuses = [admin_login(client, "root").status_code for _ in range(10)]
    refused = admin_login(client, "root", password="Str0ng-pass-phrase!")

    assert statuses == [200] * 10  # the form again, with its error
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_sign_in_attempts_from_one_ip_are_limited_across_accounts(client):
    statuses = [admin_login(client, f"guess{n}").status_code for n in range(21)]

    assert statuses == [200] * 20 + [429]


@pytest.mark.django_db
def test_the_admin_and_the_api_sign_in_share_their_buckets(client, api_client, make_user):
    make_user("root", is_staff=True, is_superuser=True)
    for _ in range(10):
        api_client.post("/api/v1/auth/login/", {"username_or_email": "root", "password": "nope"}, format="json")

    assert admin_login(client, "root").status_code == 429
    assert client.get("/admin/login/").status_code == 200  # showing the form is not an attempt


@pytest.mark.django_db
def test_social_links_are_listed_in_the_admin(staff_client, user):
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=user, provider="github", uid="4242", extra_data={"login": "alice-gh"})

    listing = staff_client.get("/admin/socialaccount/socialaccount/")
    change = staff_client.get(f"/admin/socialaccount/socialaccount/{SocialAccount.objects.get().pk}/change/")

    assert listing.status_code == 200
    assert b"alice" in listing.content
    assert change.status_code == 200
