"""Notifications in a real browser: a run's XP rings the bell live, the count survives a reload, and a
second device of the same learner sees the same list and sees it cleared when the first marks all read."""

import re

import pytest
from playwright.sync_api import Page, expect

from game.models import Notification
from tests.browser.support import (
    RUN_TIMEOUT_MS,
    log_in,
    run_free_prompt,
    screenshot,
    sign_up,
    wait_playground,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOCAL_MODEL = "local:gemma-3-270m"


def _unread(username: str) -> int:
    return Notification.objects.filter(user__username=username, read_at__isnull=True).count()


def _bell(page: Page):
    return page.locator("[data-bell]")


def test_a_runs_xp_rings_the_bell_on_every_device_and_mark_all_read_clears_it(page, new_context):
    # given a learner signed in on a laptop (their welcome credits are the first notification)
    sign_up(page, "noor")
    expect(_bell(page)).to_have_attribute("data-unread", "1")
    expect(page.locator("[data-bell-count]")).to_have_text("1")
    expect(page.locator("[data-bell-label]")).to_have_text("Notifications, 1 unread")

    # and on a phone, on the notification list
    phone = new_context().new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    log_in(phone, "noor", next_path="/notifications/")
    phone.wait_for_url(re.compile(r"/notifications/$"))
    expect(phone.locator("body[data-notifications-ready='true']")).to_be_attached()
    expect(phone.locator("[data-notification]")).to_have_count(1)
    expect(phone.locator("[data-notification]").first).to_contain_text("credits")

    # when they earn XP with a run on the laptop
    run_free_prompt(page, "Explain in two sentences why the sky is blue.", max_tokens=40, model=LOCAL_MODEL)
    expect(page.locator("[data-pane]")).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    expect(page.locator('[data-toast="xp"]').first).to_be_visible()

    # then the bell counts the new notifications live on both devices (not the run's credit bookkeeping)
    kinds = list(Notification.objects.filter(user__username="noor").order_by("id").values_list("kind", flat=True))
    assert "xp.awarded" in kinds, kinds
    unread = _unread("noor")
    assert unread > 1
    expect(_bell(page)).to_have_attribute("data-unread", str(unread))
    expect(_bell(phone)).to_have_attribute("data-unread", str(unread))
    expect(phone.locator("[data-notification]")).to_have_count(unread)
    xp_rows = phone.locator("[data-notification].unread").filter(has_text=re.compile(r"^Unread: \+\d+ XP"))
    expect(xp_rows).to_have_count(kinds.count("xp.awarded"))
    screenshot(phone, "notifications-phone-unread")

    # and a reload keeps the count
    page.reload()
    wait_playground(page)
    expect(_bell(page)).to_have_attribute("data-unread", str(unread))
    screenshot(page, "notifications-bell-desktop")

    # when they mark all read on the laptop's notification page
    _bell(page).click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    expect(page.locator("body[data-notifications-ready='true']")).to_be_attached()
    page.get_by_role("button", name="Mark all read").click()

    # then both devices show none unread, without a reload on the phone
    expect(_bell(page)).to_have_attribute("data-unread", "0")
    expect(page.locator("[data-bell-count]")).to_be_hidden()
    expect(_bell(phone)).to_have_attribute("data-unread", "0")
    expect(phone.locator("[data-bell-label]")).to_have_text("Notifications, none unread")
    expect(phone.locator("[data-notification].unread")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark all read")).to_be_disabled()
    assert _unread("noor") == 0
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(phone, "notifications-phone-read")
    screenshot(page, "notifications-desktop-read")

    # and a reload of the phone still shows them read
    phone.reload()
    expect(phone.locator("body[data-notifications-ready='true']")).to_be_attached()
    expect(_bell(phone)).to_have_attribute("data-unread", "0")
    expect(phone.locator("[data-notification]")).to_have_count(unread)
    expect(phone.locator("[data-notification].unread")).to_have_count(0)
