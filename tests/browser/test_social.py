"""Social sign-in in Chromium against the fake OpenID Connect provider (tests/fakes/oidc.py)."""

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.support import log_in, screenshot, sign_up
from tests.fakes.oidc import FakeOIDCProvider, FakeUser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()


@pytest.fixture
def oidc():
    provider = FakeOIDCProvider().start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def server_env(oidc):
    """The server's environment configures the fake provider as `fakeid`, as an operator would."""
    return {
        "SOCIAL_OIDC_PROVIDERS": "fakeid",
        "SOCIAL_OIDC_FAKEID_NAME": "Fake ID",
        "SOCIAL_OIDC_FAKEID_CLIENT_ID": oidc.client_id,
        "SOCIAL_OIDC_FAKEID_SECRET": oidc.client_secret,
        "SOCIAL_OIDC_FAKEID_ISSUER": oidc.issuer,
    }


def test_sign_up_with_the_provider_lands_signed_in_with_the_session_cookie(page, oidc):
    # given a visitor on the sign-up page, the provider vouching for sam@example.com
    page.goto("/signup/?next=/profile/")
    screenshot(page, "signup-social")

    # when they continue with the provider (which approves at once)
    page.get_by_role("link", name="Continue with Fake ID").click()

    # then they are back, signed in as a new learner with the welcome credits, verified
    expect(page).to_have_url(f"{page.url.split('/profile/')[0]}/profile/")
    expect(page.locator("[data-player-name]")).to_have_text("sam")
    expect(page.locator("[data-player-credits]")).to_have_text("100")
    expect(page.locator("[data-verify-email]")).to_be_hidden()
    cookie = next(c for c in page.context.cookies() if c["name"] == "pc_refresh")
    assert (cookie["httpOnly"], cookie["path"]) == (True, "/session/")
    assert "pc_refresh" not in page.evaluate("() => document.cookie")

    # and the profile lists the provider; unlinking the only way in (no password) is refused
    linked = page.locator("[data-social-linked='fakeid']")
    expect(linked).to_contain_text("Fake ID")
    expect(linked).to_contain_text("sam@example.com")
    screenshot(page, "profile-social-linked")
    linked.get_by_role("button", name="Unlink Fake ID").click()
    expect(page.locator("[data-form-error]").first).to_contain_text("Set a password")
    assert SocialAccount.objects.filter(user__username="sam").count() == 1

    # and a reload keeps them signed in
    page.reload()
    expect(page.locator("[data-player-name]")).to_have_text("sam")


def test_an_unverified_email_of_an_account_is_refused_until_its_owner_links_it(page, oidc):
    # given ada's account, and a provider identity claiming ada's address without verifying it
    sign_up(page, "ada")
    page.context.clear_cookies()
    oidc.user = FakeUser(sub="claims-ada", email="ada@example.com", email_verified=False, preferred_username="x")

    # when someone continues with the provider from the login page
    page.goto("/login/")
    page.get_by_role("link", name="Continue with Fake ID").click()

    # then nothing is linked, nobody is signed in, and the page says to link from the profile
    expect(page.locator("[data-form-error]")).to_contain_text("link the provider from your profile")
    screenshot(page, "login-social-account-exists")
    assert not SocialAccount.objects.exists()
    assert list(User.objects.values_list("username", flat=True)) == ["ada"]
    assert not any(c["name"] == "pc_refresh" for c in page.context.cookies())

    # when ada signs in with her password and links the provider from her profile
    log_in(page, "ada", next_path="/profile/")
    page.get_by_role("button", name="Link Fake ID").click()

    # then she is back on the profile with the provider linked
    expect(page.locator("[data-social-notice]")).to_contain_text("linked")
    expect(page.locator("[data-social-linked='fakeid']")).to_be_visible()
    assert SocialAccount.objects.get().user.username == "ada"

    # and the provider now signs her in
    page.context.clear_cookies()
    page.goto("/login/?next=/profile/")
    page.get_by_role("link", name="Continue with Fake ID").click()
    expect(page.locator("[data-player-name]")).to_have_text("ada")


def test_an_account_without_a_password_is_deleted_after_confirming_with_its_provider(page, oidc):
    # given a learner who signed up with the provider (no password) on their settings page
    page.goto("/signup/?next=/settings/")
    page.get_by_role("link", name="Continue with Fake ID").click()
    expect(page.locator("body[data-settings-ready='true']")).to_be_attached()
    expect(page.locator("[data-social-linked='fakeid']")).to_contain_text("Fake ID")  # the providers, here too
    expect(page.locator("[data-password-none]")).to_be_visible()
    page.get_by_role("button", name="Delete my account…").click()
    expect(page.get_by_label("Your password")).to_be_hidden()  # there is none to give
    confirm = page.get_by_role("button", name="Delete my account permanently")
    page.get_by_label("I understand").check()
    expect(confirm).to_be_disabled()  # not before the provider confirms

    # when they confirm with the provider (a fresh sign-in there) and come back
    page.get_by_role("button", name="Confirm with Fake ID").click()
    expect(page.locator("[data-delete-confirmed]")).to_be_visible()
    assert "delete_confirmation" not in page.url  # the page took it out of the address bar
    screenshot(page, "settings-delete-social")
    page.get_by_label("I understand").check()
    confirm.click()

    # then they are signed out, the account is gone and the identity signs in nowhere it was
    page.wait_for_url(re.compile(r"/login/\?deleted=1$"))
    expect(page.locator("[data-deleted-notice]")).to_be_visible()
    assert not User.objects.filter(username="sam").exists()
    assert SocialAccount.objects.count() == 0
    assert User.objects.filter(deleted_at__isnull=False, is_active=False).count() == 1
    assert not User.objects.filter(username="deleted-user").exists()  # nothing published: no heir needed
