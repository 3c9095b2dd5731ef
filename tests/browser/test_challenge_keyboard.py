"""A challenge from the keyboard alone: open it from the catalogue, write a prompt with its variable,
submit the attempt and read the result (whose graded state then passes the axe audit in both themes)."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import serious_violations
from tests.browser.support import builtin_challenge, screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = """() => {
  const el = document.activeElement;
  return el.id || el.getAttribute('aria-label') || el.textContent.trim();
}"""


def tab_to(page: Page, name: str, *, key: str = "Tab", limit: int = 80) -> None:
    """Press Tab (or `key`) until the focused element is `name` (its id, aria-label or text)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        seen.append(page.evaluate(FOCUSED))
        if seen[-1] == name:
            return
    raise AssertionError(f"{name!r} was not reached with {key}: {seen}")


def test_a_challenge_is_opened_written_submitted_and_read_from_the_keyboard(page, fake_openai_server):
    # given a learner on the catalogue, and a model answering every case "Positive."
    builtin_challenge()
    fake_openai_server.server.script(tokens=["Positive", "."], delay=0.1)
    sign_up(page, "kit")
    page.goto("/challenges/")
    expect(page.locator("body[data-challenges-ready='true']")).to_be_attached()

    # when they tab to the challenge's link and press Enter
    tab_to(page, "Sentiment in one word")
    page.keyboard.press("Enter")
    expect(page.locator("body[data-challenge-ready='true']")).to_be_attached()
    expect(page.locator("h1")).to_have_text("Sentiment in one word")

    # and tab to the prompt, type it, and insert the variable from its chip (Shift+Tab, Enter)
    tab_to(page, "attempt-prompt")
    page.keyboard.type("Is this review positive or negative? One word.\n\n")
    tab_to(page, "{{review}}", key="Shift+Tab", limit=3)
    expect(page.get_by_role("button", name="{{review}}")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Enter")

    # then the variable is in the prompt where the caret was, and the caret is back in the prompt
    prompt = page.get_by_label("Prompt template")
    expect(prompt).to_be_focused()
    expect(prompt).to_have_value("Is this review positive or negative? One word.\n\n{{review}}")
    expect(page.get_by_role("button", name="{{review}}")).to_have_attribute("aria-pressed", "true")

    # when they submit with Ctrl+Enter
    page.keyboard.press("Control+Enter")

    # then the result is announced in the results' status (a live region) while the focus stays put
    status = page.locator("[data-attempt-status]")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("Passed", timeout=60_000)
    expect(prompt).to_be_focused()
    expect(page.locator("[data-case-card][data-state='passed']")).to_have_count(4)

    # when they tab on to their attempt in the list and show it
    tab_to(page, "Show")
    page.keyboard.press("Enter")

    # then the focus moves to the results, which read the attempt's score and verdict
    expect(page.get_by_role("heading", name="Results")).to_be_focused()
    expect(status).to_contain_text("Passed")
    expect(page.locator("[data-pass-text]")).to_have_text("4 / 4 · 100% (needs 100%)")
    expect(page.locator("[data-score-value]")).not_to_have_text("0")
    screenshot(page, "challenge-keyboard")

    # and the graded results (passed cases, meters, the attempts list, the toasts) pass the audit in both themes
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme, reduced_motion="reduce")
        assert serious_violations(page) == [], theme
    screenshot(page, "challenge-keyboard-dark")
