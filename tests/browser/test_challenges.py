"""Challenges in a real browser, on the fake OpenAI provider: solve one end to end, watch a case stop early,
compare two attempts, and find nothing of the hidden cases in the page or its network frames."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    CHALLENGE_MODEL,
    HIDDEN_INPUT,
    HIDDEN_MARKERS,
    builtin_challenge,
    in_thread,
    private_challenge,
    screenshot,
    sign_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _record_frames(page: Page) -> list[str]:
    """Every WebSocket frame the page receives, on every socket it opens."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    return frames


def _record_api_responses(page: Page) -> list:
    """The API responses of the page now shown (bodies of a page navigated away from are gone)."""
    responses: list = []
    page.on("response", lambda response: responses.append(response) if "/api/" in response.url else None)
    page.on("framenavigated", lambda frame: responses.clear() if frame == page.main_frame else None)
    return responses


def _assert_nothing_hidden(page: Page, frames: list[str], responses: list) -> None:
    html = page.content()
    bodies = [response.text() for response in responses if response.ok and response.request.method == "GET"]
    for marker in HIDDEN_MARKERS:
        assert marker not in html
        assert not [frame for frame in frames if marker in frame]
        assert not [body for body in bodies if marker in body]


def _solved_elsewhere(slug: str, *, username: str, score: int) -> None:
    """Another learner's passing attempt, as the game learns it (it broadcasts the board on commit)."""
    from django.contrib.auth import get_user_model

    from game.services import challenge_attempt_record

    other = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password="x-Pass-9!"
    )
    in_thread(
        challenge_attempt_record,
        user_id=other.pk,
        attempt_id=f"elsewhere-{username}",
        challenge=slug,
        track="foundations",
        difficulty="beginner",
        score=score,
        prompt_tokens=20,
        passed=True,
        par_tokens=40,
        track_challenges=[slug],
    )


def _write_prompt(page: Page, text_before: str) -> None:
    """Type the prompt with the variable inserted from its chip."""
    prompt = page.get_by_label("Prompt template")
    prompt.fill(text_before)
    prompt.press("End")
    page.get_by_role("button", name="{{review}}").click()


def _wait_ready(page: Page) -> None:
    expect(page.locator("body[data-challenge-ready='true']")).to_be_attached()


def test_a_learner_solves_a_challenge_end_to_end_and_sees_no_hidden_data(page, fake_openai_server):
    # given a public challenge with two hidden cases, and the model answering every case in two tokens
    builtin_challenge()
    fake_openai_server.server.script(tokens=["Positive", "."], delay=0.3)
    frames, responses = _record_frames(page), _record_api_responses(page)

    # and a visitor who is not logged in reads the lesson but is asked to log in to submit
    page.goto("/challenges/sentiment-one-word/")
    _wait_ready(page)
    expect(page.get_by_role("link", name="Log in to submit")).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_be_hidden()
    sign_up(page, "ada")

    # when the learner finds it in the catalogue and opens it
    page.get_by_role("link", name="Challenges").click()
    expect(page.locator("body[data-challenges-ready='true']")).to_be_attached()
    card = page.locator('[data-challenge-card][data-slug="sentiment-one-word"]')
    expect(card).to_have_attribute("data-solved", "false")
    card.get_by_role("link", name="Sentiment in one word").click()
    _wait_ready(page)

    # then the lesson, the public cases, the chips and the default model are there
    expect(page.locator("[data-lesson] h2")).to_have_text("Classification")
    expect(page.locator("[data-case-spec]")).to_have_count(2)
    expect(page.get_by_label("Model")).to_have_value(CHALLENGE_MODEL)
    chip = page.get_by_role("button", name="{{review}}")
    expect(chip).to_have_attribute("aria-pressed", "false")

    # when they write a prompt with the variable from its chip and submit it
    _write_prompt(page, "Is this review positive or negative? One word.\n\n")
    expect(chip).to_have_attribute("aria-pressed", "true")
    page.evaluate(
        """() => {
          window.__growth = [];
          const grid = document.querySelector('[data-case-grid]');
          new MutationObserver(() => {
            const out = grid.querySelector('[data-case-id="c1"] [data-sample-output]');
            const n = out ? out.textContent.length : 0;
            if (n && window.__growth[window.__growth.length - 1] !== n) window.__growth.push(n);
          }).observe(grid, {subtree: true, childList: true, characterData: true});
        }"""
    )
    page.get_by_role("button", name="Submit").click()

    # then the public outputs stream in token by token and every case turns green, hidden ones too
    cards = page.locator("[data-case-card]")
    expect(cards).to_have_count(4)
    for index in range(4):
        expect(cards.nth(index)).to_have_attribute("data-state", "passed")
    assert page.evaluate("() => window.__growth") == [len("Positive"), len("Positive.")]
    expect(page.locator('[data-case-id="c1"] [data-sample-output]')).to_have_text("Positive.")
    expect(page.locator('[data-case-id="c2"] .check-pass')).to_have_count(2)
    hidden = page.locator('[data-case-card][data-hidden="true"]')
    expect(hidden.locator("[data-sample-output]")).to_have_count(0)
    expect(hidden.locator("[data-sample-checks]")).to_have_count(0)

    # and the score and the tokens against par are those of the graded attempt
    from challenges.models import Attempt

    expect(page.locator("[data-attempt-status]")).to_have_text("Passed")
    attempt = Attempt.objects.get(user__username="ada")
    assert (attempt.status, attempt.passed, attempt.pass_rate) == ("completed", True, 1.0)
    expect(page.locator("[data-score-value]")).to_have_text(f"{attempt.score:,}")
    expect(page.locator("[data-tokens-text]")).to_contain_text(f"{attempt.prompt_tokens} tokens · par 40")
    expect(page.locator("[data-pass-text]")).to_have_text("4 / 4 · 100% (needs 100%)")
    notes = [f"+{attempt.xp_awarded} XP"] if attempt.xp_awarded else []
    notes += ["a new personal best", f"cost {attempt.cost_credits} credits"]
    assert attempt.best and attempt.cost_credits > 1
    expect(page.locator("[data-score-notes]")).to_have_text(" · ".join(notes))

    # and the attempt is listed, the live leaderboard shows the learner, the page their best
    expect(page.locator("[data-attempts] tr[data-attempt-id]")).to_have_count(1)
    row = page.locator('[data-challenge-board] li[data-username="ada"]')
    expect(row).to_have_attribute("data-score", str(attempt.score))
    expect(row).to_have_class("me")
    expect(page.locator("[data-board-live]")).to_have_text("● Live")
    expect(page.locator("[data-your-best]")).to_have_text(f"{attempt.score:,}")
    page.evaluate("() => document.querySelectorAll('.toast').forEach((toast) => toast.remove())")
    screenshot(page, "challenge-solved")
    _assert_nothing_hidden(page, frames, responses)

    # when they go back to the catalogue, the challenge is marked solved with their best
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Challenges").click()
    expect(page.locator("body[data-challenges-ready='true']")).to_be_attached()
    expect(card).to_have_attribute("data-solved", "true")
    expect(card.locator("[data-solved-mark]")).to_have_text(f"✓ Solved · your best {attempt.score:,}")
    expect(page.locator("[data-track-progress]")).to_have_text("1 / 1 solved")
    page.get_by_label("Status").select_option("false")
    expect(card).to_be_hidden()
    expect(page.locator("[data-no-match]")).to_be_visible()
    assert page.url.endswith("/challenges/?solved=false")
    page.get_by_label("Status").select_option("")

    # when they have a private challenge of their own, it is listed apart and its page opens for them
    from django.contrib.auth import get_user_model

    private_challenge(get_user_model().objects.get(username="ada"), slug="adas-draft", title="Ada's draft")
    page.reload()
    expect(page.locator("body[data-challenges-ready='true']")).to_be_attached()
    own = page.locator('section[data-track="__mine"] [data-challenge-card]')
    expect(own).to_have_attribute("data-slug", "adas-draft")
    screenshot(page, "challenges-catalogue")
    _assert_nothing_hidden(page, frames, responses)
    own.get_by_role("link", name="Ada's draft").click()
    _wait_ready(page)
    expect(page.locator("h1")).to_have_text("Ada's draft")
    expect(page.locator("[data-case-spec]")).to_have_count(2)
    expect(page.get_by_role("button", name="Submit")).to_be_visible()
    _assert_nothing_hidden(page, frames, responses)


def test_a_case_failing_on_its_stream_stops_early_and_two_attempts_can_be_compared(page, fake_openai_server):
    # given a challenge whose first case must not apologise, and a model that apologises early in a long answer
    builtin_challenge(
        slug="no-apologies",
        title="Answer without apologising",
        cases=[
            {"input": {"review": "Late parcel"}, "checks": [{"type": "not-icontains", "value": "sorry"}]},
            {"input": {"review": "Lost parcel"}, "checks": [{"type": "icontains", "value": "parcel"}]},
            {"input": {"review": HIDDEN_INPUT}, "checks": [{"type": "icontains", "value": "parcel"}], "hidden": True},
        ],
    )
    tail = [f" word{index}" for index in range(12)]
    fake_openai_server.server.script(tokens=["Your", " parcel", " is", " late,", " sorry", *tail, " END"], delay=0.15)
    frames, responses = _record_frames(page), _record_api_responses(page)
    sign_up(page, "bea")
    page.goto("/challenges/no-apologies/")
    _wait_ready(page)
    expect(page.locator("[data-board-live]")).to_have_text("● Live")

    # and the leaderboard moves live when someone else solves it meanwhile
    _solved_elsewhere("no-apologies", username="zed", score=870)
    expect(page.locator('[data-challenge-board] li[data-username="zed"]')).to_have_attribute("data-score", "870")

    # when the learner submits a first prompt
    _write_prompt(page, "Reply to the customer about their parcel: ")
    page.get_by_role("button", name="Submit").click()

    # then the first case is stopped as soon as its stream says "sorry", while the others run to the end
    first = page.locator('[data-case-id="c1"]')
    expect(first).to_have_attribute("data-state", "stopped")
    expect(first.locator("[data-case-state]")).to_have_text("Stopped early")
    expect(first.locator("[data-sample-note]")).to_contain_text("Stopped early")
    expect(first.locator('.check-fail[data-check-type="not-icontains"]')).to_be_visible()
    expect(page.locator('[data-case-id="c2"]')).to_have_attribute("data-state", "passed")
    expect(page.locator("[data-attempt-status]")).to_have_text("Not passed")
    stopped_text = first.locator("[data-sample-output]").text_content()
    assert "sorry" in stopped_text and "END" not in stopped_text
    expect(page.locator('[data-case-id="c2"] [data-sample-output]')).to_contain_text("word11 END")
    assert sum(request.disconnected for request in fake_openai_server.server.requests) == 1
    expect(page.locator("[data-pass-text]")).to_have_text("2 / 3 · 67% (needs 100%)")
    screenshot(page, "challenge-early-stop")

    # when they drop the apology-prone wording, the model stops apologising, and they submit again
    fake_openai_server.server.script(tokens=["Your", " parcel", " is", " on", " its", " way."], delay=0.05)
    _write_prompt(page, "Reply briefly and factually about their parcel: ")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("[data-attempt-status]")).to_have_text("Passed")
    expect(page.locator("[data-challenge-board] .board-name")).to_have_text(["bea", "zed"])

    # then both attempts are listed, and ticking both shows what changed between their prompts
    rows = page.locator("[data-attempts] tr[data-attempt-id]")
    expect(rows).to_have_count(2)
    for index in range(2):
        rows.nth(index).get_by_role("checkbox").check()
    diff = page.locator("[data-diff-view]")
    expect(diff.locator("del")).to_have_text(["to the customer"])
    expect(diff.locator("ins")).to_have_text(["briefly and factually"])
    expect(diff).to_have_text("Reply to the customerbriefly and factually about their parcel: {{review}}")
    expect(page.locator("[data-diff-summary]")).to_contain_text(re.compile(r"score \d[\d,]* → \d[\d,]*"))

    # and the first attempt's results can be shown again from the list
    rows.nth(1).get_by_role("button", name="Show").click()
    expect(first).to_have_attribute("data-state", "stopped")
    expect(page.locator("[data-attempt-status]")).to_contain_text("Not passed")
    screenshot(page, "challenge-diff")

    # when a slow attempt is under way and they press Escape, it stops
    fake_openai_server.server.script(tokens=["Your", " parcel", *tail], delay=0.5)
    page.get_by_label("Prompt template").press("Control+Enter")
    expect(page.locator('[data-case-id="c2"] [data-sample-output]')).not_to_be_empty()
    page.keyboard.press("Escape")
    expect(page.locator("[data-attempt-status]")).to_have_text("Stopped")
    expect(page.locator('[data-case-id="c2"]')).to_have_attribute("data-state", "skipped")
    expect(page.get_by_role("button", name="Submit")).to_be_enabled()
    expect(rows).to_have_count(3)
    expect(rows.first.locator(".status")).to_have_text("Stopped")
    _assert_nothing_hidden(page, frames, responses)
