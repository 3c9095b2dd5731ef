import logging
import re
from smtplib import SMTPServerDisconnected

import pytest
from celery.exceptions import Retry
from django.core import mail
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tasks import password_reset_email_send
from tests.support.email import FailingEmailBackend

CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
OLD = "Str0ng-pass-phrase!"
NEW = "Brand-new-passphrase-42"


def login(password: str, identifier: str = "alice"):
    return APIClient().post(LOGIN, {"username_or_email": identifier, "password": password}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def request_reset(api_client, django_capture_on_commit_callbacks):
    """POST a reset request and run what it queued (the email task, eager in tests)."""

    def post(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(RESET, {"email": email}, format="json")

    return post


def reset_link_from_outbox() -> tuple[str, str]:
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body)
    return match.group(1), match.group(2)


# --- change ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_change_sets_the_new_password_and_returns_a_working_pair(user):
    session = RefreshToken.for_user(user)

    response = bearer(str(session.access_token)).post(
        CHANGE, {"old_password": OLD, "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )

    assert response.status_code == 200
    assert login(OLD).status_code == 401
    assert login(NEW).status_code == 200
    assert bearer(response.json()["access"]).get("/api/v1/auth/me/").status_code == 200
    assert APIClient().post(REFRESH, {"refresh": response.json()["refresh"]}, format="json").status_code == 200


@pytest.mark.django_db
def test_change_signs_out_every_other_session(user):
    phone = RefreshToken.for_user(user)
    laptop = RefreshToken.for_user(user)

    bearer(str(laptop.access_token)).post(
        CHANGE, {"old_password": OLD, "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )

    assert APIClient().post(REFRESH, {"refresh": str(phone)}, format="json").status_code == 401
    assert APIClient().post(REFRESH, {"refresh": str(laptop)}, format="json").status_code == 401
    stale = bearer(str(phone.access_token)).get("/api/v1/auth/me/")
    assert stale.status_code == 401
    assert stale.json()["code"] == "password_changed"


@pytest.mark.django_db
def test_change_needs_the_right_old_password(auth_client, user):
    response = auth_client.post(
        CHANGE, {"old_password": "wrong-one-1", "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"old_password": ["The current password is not correct."]}
    user.refresh_from_db()
    assert user.check_password(OLD)


@pytest.mark.django_db
def test_change_validates_the_new_password(auth_client):
    mismatch = auth_client.post(
        CHANGE, {"old_password": OLD, "new_password": NEW, "new_password_confirm": NEW + "x"}, format="json"
    )
    weak = auth_client.post(
        CHANGE, {"old_password": OLD, "new_password": "alice", "new_password_confirm": "alice"}, format="json"
    )

    assert mismatch.status_code == 400
    assert mismatch.json() == {"new_password_confirm": ["The two passwords do not match."]}
    assert weak.status_code == 400
    assert weak.json() == {
        "new_password": [
            "The password is too similar to the username.",
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
        ]
    }


@pytest.mark.django_db
def test_change_needs_authentication(api_client):
    response = api_client.post(CHANGE, {}, format="json")

    assert response.status_code == 401


# --- reset ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reset_request_emails_a_link_to_a_known_address(request_reset, user):
    response = request_reset("ALICE@example.com")

    assert response.status_code == 202
    assert response.json() == {"detail": "If an account uses this email, a reset link is on its way."}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert mail.outbox[0].subject == "Reset your PromptCraft password"
    assert "/reset-password/?uid=" in mail.outbox[0].body


@pytest.mark.django_db
def test_reset_request_answers_the_same_for_an_unknown_address(request_reset, user):
    response = request_reset("nobody@example.com")

    assert response.status_code == 202
    assert response.json() == {"detail": "If an account uses this email, a reset link is on its way."}
    assert mail.outbox == []


@pytest.mark.django_db
def test_reset_request_sends_nothing_to_an_inactive_account(request_reset, make_user):
    make_user("sleeper", is_active=False)

    response = request_reset("sleeper@example.com")

    assert response.status_code == 202
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.django_db
def test_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    api_client, user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for email in ("alice@example.com", "nobody@example.com"):
        # No lookup and no mail server on the request: its timing tells nothing about the address.
        with django_capture_on_commit_callbacks() as queued, django_assert_num_queries(0):
            response = api_client.post(RESET, {"email": email}, format="json")

        assert response.status_code == 202
        assert len(queued) == 1
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_mail_server_is_never_a_500(api_client, user, settings, caplog):
    settings.EMAIL_BACKEND = "tests.support.email.FailingEmailBackend"
    FailingEmailBackend.attempts = 0

    with caplog.at_level(logging.ERROR):
        response = api_client.post(RESET, {"email": "alice@example.com"}, format="json")

    assert response.status_code == 202
    assert response.json() == {"detail": "If an account uses this email, a reset link is on its way."}
    assert FailingEmailBackend.attempts == 1  # tasks run eagerly here; a worker would retry it (below)
    assert "Connection unexpectedly closed" in caplog.text


@pytest.mark.django_db
def test_the_reset_email_task_retries_a_failing_mail_server(user, settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.support.email.FailingEmailBackend"
    retries = []

    def retry(**options):
        retries.append(options)
        return Retry(exc=options.get("exc"), when=options.get("countdown"))

    monkeypatch.setattr(password_reset_email_send, "retry", retry)

    result = password_reset_email_send.apply(kwargs={"email": "alice@example.com"}, throw=False)

    assert result.state == "RETRY"
    assert [type(options["exc"]) for options in retries] == [SMTPServerDisconnected]
    assert retries[0]["countdown"] >= 0  # with backoff, in a worker
    assert mail.outbox == []


@pytest.mark.django_db
def test_reset_request_validates_the_email(api_client):
    response = api_client.post(RESET, {"email": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}


@pytest.mark.django_db
def test_reset_confirm_sets_the_password_once_and_signs_out_everywhere(api_client, request_reset, user):
    session = str(RefreshToken.for_user(user))
    request_reset("alice@example.com")
    uid, token = reset_link_from_outbox()
    body = {"uid": uid, "token": token, "new_password": NEW, "new_password_confirm": NEW}

    first = api_client.post(CONFIRM, body, format="json")
    again = api_client.post(CONFIRM, {**body, "new_password": NEW + "!", "new_password_confirm": NEW + "!"})

    assert first.status_code == 200
    assert first.json() == {"detail": "Your password has been reset. Sign in with the new one."}
    assert login(NEW).status_code == 200
    assert login(OLD).status_code == 401
    assert api_client.post(REFRESH, {"refresh": session}, format="json").status_code == 401
    assert again.status_code == 400
    assert again.json() == {"token": ["This reset link is invalid or has expired."]}


@pytest.mark.django_db
def test_reset_confirm_refuses_a_wrong_token_or_uid(api_client, request_reset, user):
    request_reset("alice@example.com")
    uid, token = reset_link_from_outbox()

    wrong_token = api_client.post(
        CONFIRM, {"uid": uid, "token": "abc-123", "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )
    garbage_uid = api_client.post(
        CONFIRM, {"uid": "!!!", "token": token, "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )
    not_a_uuid = api_client.post(
        CONFIRM, {"uid": "MTIz", "token": token, "new_password": NEW, "new_password_confirm": NEW}, format="json"
    )

    for response in (wrong_token, garbage_uid, not_a_uuid):
        assert response.status_code == 400
        assert response.json() == {"token": ["This reset link is invalid or has expired."]}
    user.refresh_from_db()
    assert user.check_password(OLD)


@pytest.mark.django_db
def test_reset_confirm_validates_the_new_password(api_client, request_reset, user):
    request_reset("alice@example.com")
    uid, token = reset_link_from_outbox()

    response = api_client.post(
        CONFIRM, {"uid": uid, "token": token, "new_password": "12345678", "new_password_confirm": "12345678"}
    )

    assert response.status_code == 400
    assert response.json() == {"new_password": ["This password is too common.", "This password is entirely numeric."]}
