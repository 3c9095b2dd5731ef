"""The settings page in Chromium: profile, time zone offer, email, password, export and deletion."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, in_thread, screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()
NEW_PASSWORD = "Brand-new-passphrase-42"


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def server_env(mail_dir):
    """The server writes its mail to files (the test's process cannot see another process's memory)."""
    return {"EMAIL_FILE_PATH": str(mail_dir)}


@pytest.fixture
def page_in(browser, server):
    """Factory of pages whose browser reports the given time zone (JS errors fail the test)."""
    contexts, errors = [], []

    def make(timezone_id: str = "UTC") -> Page:
        context = browser.new_context(
            base_url=server.http_url, viewport={"width": 1360, "height": 900}, timezone_id=timezone_id
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors in the pages: {errors}"


def open_settings(page: Page) -> None:
    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/$"))
    expect(page.locator("body[data-settings-ready='true']")).to_be_attached()


def _user(username: str):
    return User.objects.get(username=username)


def test_names_and_bio_are_edited_and_kept(page_in):
    page = page_in("UTC")
    sign_up(page, "nell")
    open_settings(page)
    expect(page.locator("[data-tz-offer]")).to_be_hidden()  # the browser agrees with the profile
    expect(page.get_by_label("Avatar", exact=True)).to_be_attached()  # the avatar upload

    page.get_by_label("First name").fill("Nell")
    page.get_by_label("Last name").fill("Gwynne")
    page.get_by_label("Bio").fill("Writes prompts by candlelight.")
    page.get_by_role("button", name="Save profile").click()

    expect(page.locator("[data-profile-saved]")).to_be_visible()
    nell = _user("nell")
    assert (nell.first_name, nell.last_name, nell.bio) == ("Nell", "Gwynne", "Writes prompts by candlelight.")
    screenshot(page, "settings")
    page.reload()
    expect(page.locator("body[data-settings-ready='true']")).to_be_attached()
    expect(page.get_by_label("First name")).to_have_value("Nell")
    expect(page.get_by_label("Bio")).to_have_value("Writes prompts by candlelight.")


def test_the_browser_time_zone_is_offered_and_taken_only_when_accepted(page_in):
    page = page_in("Europe/Paris")
    sign_up(page, "paz")
    open_settings(page)

    offer = page.locator("[data-tz-offer]")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Your browser says Europe/Paris")
    assert _user("paz").timezone == "UTC"  # nothing changed on its own
    screenshot(page, "settings-timezone-offer")
    page.get_by_role("button", name="Use Europe/Paris").click()

    expect(offer).to_be_hidden()
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Europe/Paris")
    assert _user("paz").timezone == "Europe/Paris"
    page.reload()
    expect(page.locator("body[data-settings-ready='true']")).to_be_attached()
    expect(offer).to_be_hidden()


def test_a_declined_time_zone_offer_changes_nothing_and_is_not_repeated(page_in):
    page = page_in("Asia/Tokyo")
    sign_up(page, "tak")
    open_settings(page)
    offer = page.locator("[data-tz-offer]")
    expect(offer).to_contain_text("Your browser says Asia/Tokyo")

    page.get_by_role("button", name="Keep UTC").click()

    expect(offer).to_be_hidden()
    assert _user("tak").timezone == "UTC"
    page.reload()
    expect(page.locator("body[data-settings-ready='true']")).to_be_attached()
    expect(offer).to_be_hidden()
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("UTC")
    assert _user("tak").timezone == "UTC"


def test_a_changed_password_is_the_one_that_signs_in(page_in):
    page = page_in()
    sign_up(page, "pam")
    open_settings(page)

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("[data-password-saved]")).to_be_visible()
    page.reload()  # still signed in: the page kept the new session
    expect(page.locator("[data-player-name]")).to_have_text("pam")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/"))
    page.get_by_label("Username or email").fill("pam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-form-error]").first).to_contain_text("Wrong username/email or password")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-player-name]")).to_have_text("pam")


def test_a_new_email_is_unverified_until_its_emailed_link_is_followed(page_in, mail_dir):
    page = page_in()
    sign_up(page, "emma")
    open_settings(page)
    expect(page.locator("[data-email-state]")).to_have_text("(verified)")

    page.get_by_label("New email address").fill("emma.new@example.com")
    page.get_by_role("button", name="Change email").click()

    expect(page.locator("[data-email-current]")).to_have_text("emma.new@example.com")
    expect(page.locator("[data-email-state]")).to_have_text("(not verified)")
    expect(page.locator("[data-email-unverified]")).to_be_visible()
    screenshot(page, "settings-email-unverified")
    assert _user("emma").email_verified is False
    mails = [path.read_text() for path in mail_dir.iterdir()]
    to_new = [mail for mail in mails if "To: emma.new@example.com" in mail]
    assert len(to_new) == 1
    link = re.search(r"http://\S+/verify-email/\?token=\S+", to_new[0])[0]

    page.goto("/verify-email/?" + link.split("?", 1)[1])  # FRONTEND_URL names another port
    expect(page.get_by_role("heading", name="Your email is verified")).to_be_visible()
    assert _user("emma").email_verified is True


def test_the_export_downloads_a_json_file_with_the_learners_template(page_in):
    from prompts.services import template_create

    page = page_in()
    sign_up(page, "xena")
    in_thread(template_create, owner=_user("xena"), title="Xena's summariser", content="Summarise {{text}}")
    open_settings(page)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    download = download_info.value

    assert re.fullmatch(r"promptcraft-xena-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    document = json.loads(Path(download.path()).read_text())
    assert document["account"]["profile"]["username"] == "xena"
    (template,) = document["prompts"]["templates"]
    assert template["title"] == "Xena's summariser"
    assert [v["content"] for v in template["versions"]] == ["Summarise {{text}}"]


def test_deleting_the_account_signs_out_and_it_cannot_sign_in_again(page_in):
    page = page_in()
    sign_up(page, "dora")
    open_settings(page)

    page.get_by_role("button", name="Delete my account…").click()
    confirm = page.get_by_role("button", name="Delete my account permanently")
    expect(confirm).to_be_disabled()  # not before the learner says they understand
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_label("I understand").check()
    screenshot(page, "settings-delete")
    confirm.click()
    expect(page.locator("[data-delete-form] [data-error-for='password']")).to_have_text("The password is not correct.")
    assert _user("dora").is_active

    page.get_by_label("Your password").fill(PASSWORD)
    confirm.click()

    page.wait_for_url(re.compile(r"/login/\?deleted=1$"))
    expect(page.locator("[data-deleted-notice]")).to_be_visible()
    assert not User.objects.filter(username="dora").exists()  # erased: the row is anonymised
    assert User.objects.filter(email="dora@example.com").count() == 0
    page.goto("/settings/")
    page.wait_for_url(re.compile(r"/login/\?next="))  # no session left
    page.get_by_label("Username or email").fill("dora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-form-error]").first).to_contain_text("Wrong username/email or password")
