"""Email verification in a real browser: the profile's panel and resend, the emailed link's page."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.support import in_thread, screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()


def _link_token(*, username: str) -> str:
    from accounts.email_tokens import token_make

    user = User.objects.get(username=username)
    return token_make(user_id=user.pk, email=user.email)


def test_a_new_learner_asks_for_a_link_and_verifies_from_its_page(page):
    # given a learner who just signed up and has not followed the emailed link yet
    sign_up(page, "uma", verified=False)

    # when they open their profile, it says why credits cannot be spent yet and offers a new link
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("body[data-profile-ready='true']")).to_be_attached()
    panel = page.locator("[data-verify-email]")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-verify-address]")).to_have_text("uma@example.com")
    page.get_by_role("button", name="Send a new link").click()
    expect(page.locator("[data-verify-sent]")).to_have_text("A new verification link is on its way to uma@example.com.")
    screenshot(page, "profile-unverified")

    # when they open the link, the page verifies the address and says so, still signed in
    page.goto(f"/verify-email/?token={in_thread(_link_token, username='uma')}")
    expect(page.get_by_role("heading", name="Your email is verified")).to_be_visible()
    expect(page.locator("[data-player-name]")).to_have_text("uma")
    screenshot(page, "verify-email-done")
    assert User.objects.get(username="uma").email_verified is True

    # and the profile no longer shows the panel
    page.goto("/profile/")
    expect(page.locator("body[data-profile-ready='true']")).to_be_attached()
    expect(panel).to_be_hidden()

    # and a forged link shows what to do instead
    page.goto("/verify-email/?token=forged")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    screenshot(page, "verify-email-invalid")
