"""Email verification: the link sent on registration and on an email change, verifying it (REST and
the page), asking for a new one, and which accounts start verified."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from accounts import demo, services
from accounts.tasks import email_verification_send

User = get_user_model()

REGISTER = "/api/v1/auth/register/"
ME = "/api/v1/auth/me/"
VERIFY = "/api/v1/auth/email/verify/"
RESEND = "/api/v1/auth/email/verify/resend/"
BAD_LINK = {"token": ["This verification link is invalid or has expired."]}
VERIFIED = {"detail": "Your email address is verified.", "email_verified": True}


def registration(**overrides) -> dict:
    return {
        "username": "ada",
        "email": "Ada@Example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "password": "Analytical-Engine-1843",
        "password_confirm": "Analytical-Engine-1843",
        **overrides,
    }


def bearer(user) -> APIClient:
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def token_from(message) -> str:
    match = re.search(r"/verify-email/\?token=([\w:-]+)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def register(api_client, django_capture_on_commit_callbacks):
    """POST a registration and run what it queued (the email task, eager in tests)."""

    def post(**overrides):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post(REGISTER, registration(**overrides), format="json")
        assert response.status_code == 201, response.json()
        return response

    return post


@pytest.fixture
def unverified(make_user):
    return make_user("una", email_verified=False)


# --- the link sent on registration ----------------------------------------------------------


@pytest.mark.django_db
def test_registration_emails_a_verification_link_and_keeps_the_welcome_credits_visible(register):
    response = register()

    # the contract's answer: the new user with 100 credits, level 1, 0 XP, signed in; unverified
    user = response.json()["user"]
    assert (user["credits"], user["level"], user["experience_points"], user["user_rank"]) == (
        100,
        1,
        0,
        "Prompt Novice",
    )
    assert user["email_verified"] is False
    assert User.objects.get(username="ada").email_verified is False
    # one email, to the registered address, with the page's link
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Ada@example.com"]
    assert message.subject == "Confirm your PromptCraft email address"
    assert "http://127.0.0.1:8000/verify-email/?token=" in message.body


@pytest.mark.django_db
def test_the_link_verifies_the_email_and_verifying_again_answers_the_same(register, api_client):
    access = register().json()["access"]
    token = token_from(mail.outbox[0])

    first = api_client.post(VERIFY, {"token": token}, format="json")
    again = api_client.post(VERIFY, {"token": token}, format="json")

    assert (first.status_code, first.json()) == (200, VERIFIED)
    assert (again.status_code, again.json()) == (200, VERIFIED)
    assert User.objects.get(username="ada").email_verified is True
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get(ME).json()["email_verified"] is True


@pytest.mark.django_db
def test_email_verified_is_read_only_in_the_profile(unverified):
    response = bearer(unverified).patch(ME, {"email_verified": True, "bio": "hi"}, format="json")

    assert response.status_code == 200
    assert response.json()["email_verified"] is False
    unverified.refresh_from_db()
    assert (unverified.email_verified, unverified.bio) == (False, "hi")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "",
        "x" * 513,
        signing.dumps({"u": "0f4c3d39-4d0a-4bd4-9f77-5f3e1a2b9c10", "e": "una@example.com"}, salt="other-salt"),
    ],
)
def test_a_bad_token_is_a_400_naming_the_field(api_client, unverified, token):
    response = api_client.post(VERIFY, {"token": token}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"token"}
    unverified.refresh_from_db()
    assert unverified.email_verified is False


@pytest.mark.django_db
def test_an_expired_or_tampered_token_is_refused(api_client, unverified, settings, monkeypatch):
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - settings.EMAIL_VERIFICATION_TIMEOUT - 5)
    expired = services.email_tokens.token_make(user_id=unverified.pk, email=unverified.email)
    monkeypatch.setattr(signing.time, "time", real_time)
    valid = services.email_tokens.token_make(user_id=unverified.pk, email=unverified.email)
    tampered = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")

    assert api_client.post(VERIFY, {"token": expired}, format="json").json() == BAD_LINK
    assert api_client.post(VERIFY, {"token": tampered}, format="json").json() == BAD_LINK
    assert api_client.post(VERIFY, {}, format="json").json() == {"token": ["This field is required."]}
    unverified.refresh_from_db()
    assert unverified.email_verified is False
    assert api_client.post(VERIFY, {"token": valid}, format="json").json() == VERIFIED


@pytest.mark.django_db
def test_a_token_of_an_inactive_or_deleted_account_is_refused(api_client, unverified, make_user):
    token = services.email_tokens.token_make(user_id=unverified.pk, email=unverified.email)
    unverified.is_active = False
    unverified.save(update_fields=["is_active"])
    gone = make_user("gone", email_verified=False)
    gone_token = services.email_tokens.token_make(user_id=gone.pk, email=gone.email)
    gone.delete()

    assert api_client.post(VERIFY, {"token": token}, format="json").json() == BAD_LINK
    assert api_client.post(VERIFY, {"token": gone_token}, format="json").json() == BAD_LINK


# --- an email change ------------------------------------------------------------------------


@pytest.mark.django_db
def test_changing_the_email_makes_it_unverified_and_sends_a_link_to_the_new_address(
    user, auth_client, api_client, django_capture_on_commit_callbacks
):
    assert user.email_verified is True
    old_token = services.email_tokens.token_make(user_id=user.pk, email=user.email)

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(ME, {"email": "alice@wonder.land"}, format="json")

    assert response.status_code == 200
    assert (response.json()["email"], response.json()["email_verified"]) == ("alice@wonder.land", False)
    assert [m.to for m in mail.outbox] == [["alice@wonder.land"]]
    # a link sent to the old address proves nothing about the new one
    assert api_client.post(VERIFY, {"token": old_token}, format="json").json() == BAD_LINK
    assert api_client.post(VERIFY, {"token": token_from(mail.outbox[0])}, format="json").json() == VERIFIED
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("alice@wonder.land", True)


@pytest.mark.django_db
def test_the_same_email_in_another_case_or_other_fields_keep_it_verified(
    user, auth_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(ME, {"email": "ALICE@example.com", "bio": "hello"}, format="json")

    assert response.status_code == 200
    assert response.json()["email_verified"] is True
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_queued_link_is_not_sent_once_the_address_changed_again_or_was_verified(unverified):
    assert (
        email_verification_send.apply(kwargs={"user_id": str(unverified.pk), "email": "old@example.com"}).get() is False
    )
    assert (
        email_verification_send.apply(kwargs={"user_id": str(unverified.pk), "email": unverified.email}).get() is True
    )
    User.objects.filter(pk=unverified.pk).update(email_verified=True)
    assert (
        email_verification_send.apply(kwargs={"user_id": str(unverified.pk), "email": unverified.email}).get() is False
    )
    assert len(mail.outbox) == 1


# --- resend ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resend_sends_a_new_working_link(unverified, api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = bearer(unverified).post(RESEND)

    assert response.status_code == 202
    assert response.json() == {
        "detail": "A new verification link is on its way to una@example.com.",
        "email_verified": False,
    }
    assert [m.to for m in mail.outbox] == [["una@example.com"]]
    assert api_client.post(VERIFY, {"token": token_from(mail.outbox[0])}, format="json").json() == VERIFIED


@pytest.mark.django_db
def test_resend_for_a_verified_address_sends_nothing(user, auth_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(RESEND)

    assert (response.status_code, response.json()) == (200, VERIFIED)
    assert mail.outbox == []


@pytest.mark.django_db
def test_resend_needs_a_login_and_is_throttled(unverified, api_client, settings, django_capture_on_commit_callbacks):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "email_verification": "2/hour"},
    }
    assert api_client.post(RESEND).status_code == 401

    client = bearer(unverified)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(RESEND) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2]["Retry-After"]) > 0
    assert len(mail.outbox) == 2


# --- the page of the link -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_links_page_verifies_and_says_so(client, unverified):
    token = services.email_tokens.token_make(user_id=unverified.pk, email=unverified.email)

    page = client.get(f"/verify-email/?token={token}")
    again = client.get(f"/verify-email/?token={token}")

    assert page.status_code == 200 and again.status_code == 200
    html = page.content.decode()
    assert "Your email is verified" in html and "una@example.com" in html
    assert 'data-verify-result="verified"' in html
    unverified.refresh_from_db()
    assert unverified.email_verified is True


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?token=", "?token=forged", "?token=a&token=b"])
def test_the_links_page_explains_a_bad_link(client, unverified, query):
    page = client.get(f"/verify-email/{query}")

    assert page.status_code == 400
    html = page.content.decode()
    assert "This link does not work" in html and 'data-verify-result="invalid"' in html
    unverified.refresh_from_db()
    assert unverified.email_verified is False


# --- accounts that start verified -----------------------------------------------------------


@pytest.mark.django_db
def test_demo_accounts_are_verified_and_get_no_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        demo.load()

    assert set(User.objects.values_list("username", "email_verified")) == {
        ("admin", True),
        ("ada", True),
        ("grace", True),
        ("alan", True),
    }
    assert mail.outbox == []


@pytest.mark.django_db
def test_createsuperuser_makes_a_verified_account():
    call_command("createsuperuser", interactive=False, username="root", email="root@example.com", verbosity=0)

    assert User.objects.get(username="root").email_verified is True


@pytest.mark.django_db
def test_the_service_registers_verified_accounts_without_an_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        verified = services.user_register(
            username="vera", email="vera@example.com", password="Str0ng-pass-phrase!", email_verified=True
        )
        plain = services.user_register(username="pat", email="pat@example.com", password="Str0ng-pass-phrase!")

    assert (verified.email_verified, plain.email_verified) == (True, False)
    assert [m.to for m in mail.outbox] == [["pat@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_the_migration_verifies_the_accounts_there_were():
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0002_username_ci_unique")])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (id, password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined, credits, level, experience_points, user_rank, timezone, bio)"
            " VALUES (%s, '!', false, 'old', '', '', 'old@example.com', false, true, now(), 100, 1, 0,"
            " 'Prompt Novice', 'UTC', '')",
            ["6a1c0e52-3c57-4d4e-9a51-2d1f4f7a9e11"],
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert User.objects.get(username="old").email_verified is True
    new = User.objects.create(username="new", email="new@example.com")
    new.refresh_from_db()
    assert new.email_verified is False


@pytest.mark.django_db
def test_resend_is_refused_while_the_throttles_cache_is_away(
    unverified, monkeypatch, django_capture_on_commit_callbacks
):
    import redis

    from accounts.throttles import FixedWindowRateThrottle

    def unavailable(self, key):
        raise redis.ConnectionError("cache away")

    monkeypatch.setattr(FixedWindowRateThrottle, "_count", unavailable)
    client = bearer(unverified)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND)

    assert response.status_code == 503  # no mail without a limit; the profile still reads (fails open)
    assert mail.outbox == []
    assert client.get(ME).status_code == 200
