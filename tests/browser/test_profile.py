"""The profile page and the live game feedback shown on every page."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.support import in_thread, screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()


def _record_run(user, n: int) -> None:
    from game.services import activity_record

    in_thread(
        activity_record,
        user_id=user.pk,
        activity="run.completed",
        idempotency_key=f"browser-run-{n}",
        data={"provider": "local", "model": "local:gemma-3-270m", "output_tokens": 24},
    )


def test_the_profile_shows_progress_badges_and_ledgers_and_follows_live_events(page):
    # given a new learner on their profile page
    sign_up(page, "ada")
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("body[data-profile-ready='true']")).to_be_attached()
    expect(page.locator("[data-p-level]")).to_have_text("1")
    expect(page.locator("[data-p-rank]")).to_have_text("Prompt Novice")
    expect(page.locator('[data-badge="first-run"]')).to_have_class("badge locked")

    # when they complete a run (recorded by the game while the page is open)
    ada = User.objects.get(username="ada")
    _record_run(ada, 1)

    # then toasts arrive, and the header and the profile update without a reload
    ada.refresh_from_db()
    expect(page.locator('[data-toast="badge"]')).to_contain_text("Badge unlocked")
    expect(page.locator("[data-player-xp]")).to_have_text(f"{ada.experience_points:,}")
    expect(page.locator("[data-player-credits]")).to_have_text(f"{ada.credits:,}")
    expect(page.locator("[data-p-xp]")).to_have_text(f"{ada.experience_points:,}")
    expect(page.locator('[data-badge="first-run"]')).to_have_class("badge unlocked")
    expect(page.locator("[data-p-streak]")).to_have_text("1 day")
    from game.models import CreditEntry, XPEvent

    expect(page.locator("[data-xp-history] tr")).to_have_count(XPEvent.objects.filter(user=ada).count())
    expect(page.locator("[data-credit-history] tr")).to_have_count(CreditEntry.objects.filter(user=ada).count())
    bar = page.locator("[data-p-bar]")
    assert 0 < int(bar.get_attribute("aria-valuenow")) < 100
    expect(page.locator('[data-badge="runs-10"] progress')).to_have_attribute("value", "1")
    expect(page.locator('[data-badge="runs-10"] progress')).to_have_attribute("max", "10")
    expect(page.locator("[data-activity-totals] .stat").nth(3)).to_have_text(f"XP earned{ada.experience_points}")
    expect(page.locator("[data-chart-table='xp'] tbody tr")).to_have_count(30)
    screenshot(page, "profile")

    # when they earn enough XP for the next level
    from game.services import xp_award

    to_next = int(page.locator("[data-p-next]").text_content().split(" ")[0].replace(",", ""))
    in_thread(xp_award, user_id=ada.pk, amount=to_next, reason="test.award", idempotency_key="level-up")

    # then a level-up toast arrives and every level shown moves on
    ada.refresh_from_db()
    assert ada.level == 2
    expect(page.locator('[data-toast="level"]')).to_contain_text("Level 2!")
    expect(page.locator("[data-player-level]")).to_have_text("2")
    expect(page.locator("[data-player-rank]")).to_have_text(ada.user_rank)
    expect(page.locator("[data-p-level]")).to_have_text("2")


def test_api_keys_are_created_shown_once_listed_by_prefix_and_revoked(page):
    from accounts.models import PersonalAPIKey

    sign_up(page, "kay")
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("[data-key-list]")).to_contain_text("No keys yet.")

    # when they create a key
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()

    # then it is shown once, and listed by its prefix
    created = page.locator("[data-key-value]")
    expect(created).to_have_text(re.compile(r"^pc_[\w-]{43}$"))
    key = created.text_content()
    stored = in_thread(lambda: PersonalAPIKey.objects.get(user__username="kay"))
    row = page.locator(f'[data-key-list] tr[data-key-id="{stored.pk}"]')
    expect(row).to_contain_text("laptop")
    expect(row.locator("code")).to_have_text(f"{key[:11]}…")
    expect(page.locator("[data-openai-base]")).to_have_text(re.compile(r"^http://.+/v1$"))
    page.locator("[data-api-keys]").scroll_into_view_if_needed()
    screenshot(page, "profile-api-keys")
    page.reload()
    expect(page.locator("[data-key-list] tr")).to_have_count(1)
    assert key not in page.content()

    # when they revoke it
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator(f'[data-key-list] tr[data-key-id="{stored.pk}"]')
    row.get_by_role("button", name="Revoke laptop").click()

    # then it is gone and no longer works
    expect(page.locator("[data-key-list]")).to_contain_text("No keys yet.")
    stored = in_thread(lambda: PersonalAPIKey.objects.get(pk=stored.pk))
    assert stored.revoked_at is not None
