"""Sign up, stay logged in across pages and reloads without tokens in storage, log out, log in."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.support import in_thread, log_in, screenshot, sign_up, wait_playground

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_shows_the_new_player_and_keeps_the_session_out_of_script_storage(page):
    # given a visitor on the sign-up page
    # when they register
    sign_up(page, "ada")

    # then the header shows a fresh player: level 1, Prompt Novice, 100 credits, 0 XP
    expect(page.locator("[data-player-name]")).to_have_text("ada")
    expect(page.locator("[data-player-level]")).to_have_text("1")
    expect(page.locator("[data-player-rank]")).to_have_text("Prompt Novice")
    expect(page.locator("[data-player-credits]")).to_have_text("100")
    expect(page.locator("[data-player-xp]")).to_have_text("0")
    screenshot(page, "playground-new-user")

    # and no token is readable by scripts: storage is empty, the refresh cookie is HttpOnly
    assert page.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    assert "pc_refresh" not in page.evaluate("() => document.cookie")
    cookie = next(c for c in page.context.cookies() if c["name"] == "pc_refresh")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/session/")
    assert "token" not in page.url

    # when they reload and move to another page, they are still logged in
    page.reload()
    wait_playground(page)
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("[data-player-name]")).to_have_text("ada")
    expect(page.locator("[data-p-level]")).to_have_text("1")

    # and two tabs loading at once (both rotating the one refresh token) both stay logged in
    second = page.context.new_page()
    second.goto("/leaderboard/", wait_until="commit")
    page.evaluate("() => location.reload()")
    expect(second.locator("[data-player-name]")).to_have_text("ada")
    expect(page.locator("[data-player-name]")).to_have_text("ada")
    page.reload()
    expect(page.locator("[data-player-name]")).to_have_text("ada")

    # and the playground fits a phone screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    wait_playground(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "playground-phone")


def test_log_out_ends_the_session_and_log_in_restores_it(page):
    # given a logged-in learner
    sign_up(page, "grace")

    # when they log out
    page.get_by_role("button", name="Log out").click()

    # then they are on the login page and the playground asks them to log in again
    page.wait_for_url(re.compile(r"/login/"))
    page.goto("/")
    page.wait_for_url(re.compile(r"/login/\?next=%2F$"))
    screenshot(page, "login")

    # when they get the password wrong, the form says so
    page.get_by_label("Username or email").fill("grace")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-form-error]")).to_have_text("Wrong username/email or password.")

    # when they log in with the right one, they are back on the playground
    log_in(page, "grace@example.com")
    page.wait_for_url(re.compile(r"/$"))
    wait_playground(page)
    expect(page.locator("[data-player-name]")).to_have_text("grace")


def test_sign_up_errors_are_shown_next_to_their_fields(page):
    # given the sign-up page
    page.goto("/signup/")

    # when the passwords differ and the email is not one
    page.get_by_label("Username").fill("lin")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("Str0ng-pass-phrase!")
    page.get_by_label("Confirm password").fill("Different-pass-phrase!")
    page.get_by_role("button", name="Sign up").click()

    # then each problem is shown by its field and nothing is submitted further
    expect(page.locator('[data-error-for="email"]')).not_to_be_empty()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/signup/")


@pytest.mark.parametrize("server_env", [{"JWT_ACCESS_SECONDS": "4"}])
def test_expiring_access_tokens_are_renewed_for_requests_and_live_sockets(page):
    # given a learner whose access tokens last 4 seconds
    sign_up(page, "hal")
    hal = get_user_model().objects.get(username="hal")

    # when several lifetimes pass (each socket must be renewed before its token expires)
    page.wait_for_timeout(9_000)

    # then live events still arrive on the re-authenticated socket
    from game.services import xp_award

    in_thread(xp_award, user_id=hal.pk, amount=7, reason="test.award", idempotency_key="late-award")
    expect(page.locator('[data-toast="xp"]')).to_contain_text("+7 XP")
    expect(page.locator("[data-player-xp]")).to_have_text("7")

    # and API calls made with a renewed token work
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("[data-p-xp]")).to_have_text("7")
    expect(page.locator("[data-form-error]:not([hidden])")).to_have_count(0)


@pytest.mark.parametrize("server_env", [{"JWT_ACCESS_SECONDS": "4"}])
def test_an_unreachable_session_service_is_retried_without_logging_the_user_out(page):
    # given a learner whose access token is about to expire, and a network that drops token requests
    sign_up(page, "ian")
    ian = get_user_model().objects.get(username="ian")
    page.route("**/session/token/", lambda route: route.abort("internetdisconnected"))

    # when the token expires while the session service cannot be reached
    page.wait_for_timeout(7_000)
    assert page.url.endswith("/")

    # then, once the network is back, the live socket is re-authenticated and events flow again
    page.unroute("**/session/token/")
    from game.services import xp_award

    expect(page.locator("[data-connection-banner]")).to_be_hidden()
    in_thread(xp_award, user_id=ian.pk, amount=3, reason="test.award", idempotency_key="after-outage")
    expect(page.locator("[data-player-xp]")).to_have_text("3")
    assert page.url.endswith("/")


def test_forgotten_password_is_reset_through_the_emailed_link(page):
    # given a learner who has logged out
    sign_up(page, "marie")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/**")

    # when they ask for a reset link, the page answers the same whatever the email
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("marie@example.com")
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.locator("[data-forgot-sent]")).to_be_visible()

    # and they open the emailed link (the same uid/token the server mails) and choose a new password
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    marie = get_user_model().objects.get(username="marie")
    uid, token = urlsafe_base64_encode(force_bytes(marie.pk)), default_token_generator.make_token(marie)
    page.goto(f"/reset-password/?uid={uid}&token={token}")
    page.get_by_label("New password", exact=True).fill("An0ther-long-phrase!")
    page.get_by_label("Repeat the new password").fill("An0ther-long-phrase!")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("[data-reset-done]")).to_be_visible()
    screenshot(page, "password-reset-done")

    # then the link is spent, and the new password logs them in
    page.goto(f"/reset-password/?uid={uid}&token={token}")
    page.get_by_label("New password", exact=True).fill("Yet-an0ther-phrase!")
    page.get_by_label("Repeat the new password").fill("Yet-an0ther-phrase!")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator('[data-error-for="token"]')).to_contain_text("invalid or has expired")
    page.goto("/login/")
    page.get_by_label("Username or email").fill("marie")
    page.get_by_label("Password").fill("An0ther-long-phrase!")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-player-name]")).to_have_text("marie")
