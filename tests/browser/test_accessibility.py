"""Every page: named controls, one main heading, a language; the playground works from the keyboard."""

import pytest
from playwright.sync_api import expect

from tests.browser.support import LONG_PROMPT, RUN_TIMEOUT_MS, builtin_challenge, set_params, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter(el => el.offsetParent !== null && el.type !== 'hidden')
  .filter(el => {
    const byLabel = el.labels && [...el.labels].some(l => l.textContent.trim());
    const byAria = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title;
    const byText = ['BUTTON', 'A'].includes(el.tagName) && el.textContent.trim();
    return !(byLabel || byAria || byText);
  })
  .map(el => el.outerHTML.slice(0, 120))"""


def test_every_page_names_its_controls_and_has_one_main_heading(page):
    builtin_challenge()
    sign_up(page, "ada")
    for path, ready in [
        ("/", "playground-ready"),
        ("/library/", "library-ready"),
        ("/library/new/", "editor-ready"),
        ("/profile/", "profile-ready"),
        ("/settings/", "settings-ready"),
        ("/leaderboard/", "leaderboard-ready"),
        ("/challenges/", "challenges-ready"),
        ("/challenges/sentiment-one-word/", "challenge-ready"),
        ("/runs/", "runs-ready"),
        ("/runs/compare/", "compare-ready"),
        ("/notifications/", "notifications-ready"),
    ]:
        page.goto(path)
        expect(page.locator(f"body[data-{ready}='true']")).to_be_attached()
        assert page.evaluate(UNNAMED_CONTROLS) == [], path
        expect(page.locator("h1")).to_have_count(1)
        assert page.evaluate("() => document.documentElement.lang") == "en"


def test_the_playground_can_be_driven_from_the_keyboard(page):
    # given the playground
    sign_up(page, "kay")

    # when a keyboard user skips to the content and runs with Ctrl+Enter before writing a prompt
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Prompt", exact=True).focus()
    page.keyboard.press("Control+Enter")

    # then the problem is said next to the field, which keeps the focus
    expect(page.locator('[data-error-for="prompt"]')).to_have_text("Write a prompt first.")
    expect(page.get_by_label("Prompt", exact=True)).to_be_focused()

    # and the source switch, the model picker and the Run button are reachable with Tab
    reached = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()"))
    assert {"model-a", "model-b", "Parameters", "Run"} <= reached, reached


def test_a_run_starts_with_ctrl_enter_and_stops_with_escape(page):
    # given a learner typing a prompt
    sign_up(page, "lee")
    page.get_by_label("Model", exact=True).select_option("local:gemma-3-270m")
    page.get_by_label("Prompt", exact=True).fill(LONG_PROMPT)
    set_params(page, max_tokens=400)  # an answer long enough to stop part way

    # when they press Ctrl+Enter, and Escape once text is arriving
    page.get_by_label("Prompt", exact=True).press("Control+Enter")
    expect(page.locator("[data-pane-output]")).not_to_be_empty(timeout=RUN_TIMEOUT_MS)
    page.keyboard.press("Escape")

    # then the run stopped part way
    expect(page.locator("[data-pane]")).to_have_attribute("data-status", "cancelled", timeout=RUN_TIMEOUT_MS)
