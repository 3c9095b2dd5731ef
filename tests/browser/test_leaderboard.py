"""The leaderboard widget embedded on another site, moving live while someone else earns XP."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.conftest import ALLOWED_SITE_HOST, REFUSED_SITE_HOST
from tests.browser.support import RUN_TIMEOUT_MS, in_thread, run_free_prompt, screenshot, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

User = get_user_model()
LOCAL_MODEL = "local:gemma-3-270m"


def _embed_page(server_url: str) -> str:
    return f"""<!doctype html><html lang="en"><head><title>A learning blog</title></head>
<body style="font-family: sans-serif; max-width: 960px; margin: 2rem auto; display: flex; gap: 2rem">
  <div style="flex: 1">
    <h1>Our prompt club</h1>
    <script src="{server_url}/static/widgets/leaderboard.js" data-board="weekly" data-size="10"></script>
  </div>
  <iframe src="{server_url}/widgets/leaderboard/?board=weekly&size=5" title="PromptCraft leaderboard"
          width="360" height="320" style="border: 0"></iframe>
</body></html>"""


def _award(username: str, amount: int) -> None:
    from game.services import xp_award

    user = User.objects.get(username=username)
    in_thread(xp_award, user_id=user.pk, amount=amount, reason="test.seed", idempotency_key=f"seed-{username}-{amount}")


def _make_player(username: str) -> None:
    User.objects.create_user(username=username, email=f"{username}@example.com", password="x-Str0ng-pass!")


def test_the_widget_on_an_allowed_site_moves_live_when_another_learner_earns_xp(new_context, other_site, server):
    # given two players on the weekly board and a learner just behind them
    _make_player("carol")
    _make_player("dan")
    _award("carol", 8)
    _award("dan", 5)
    learner = new_context().new_page()
    sign_up(learner, "erin")
    _award("erin", 1)

    # and a page on another, allowed site embedding the widget (script and iframe)
    other_site.pages["/embed.html"] = _embed_page(server.http_url)
    viewer = new_context().new_page()
    viewer.goto(f"{other_site.origin(ALLOWED_SITE_HOST)}/embed.html")
    widget = viewer.locator(".promptcraft-leaderboard")
    rows = widget.locator("li[data-username]")
    expect(widget.locator(".live")).to_have_text("● Live")
    expect(rows).to_have_count(3)
    expect(rows.locator(".name")).to_have_text(["carol", "dan", "erin"])
    frame_rows = viewer.frame_locator("iframe").locator("li[data-username] .name")
    expect(frame_rows).to_have_text(["carol", "dan", "erin"])

    # when the learner completes a run in their own browser
    # (long enough to earn run XP: a run must produce RUN_MIN_OUTPUT_TOKENS)
    run_free_prompt(learner, "Explain in two sentences why the sky is blue.", max_tokens=40, model=LOCAL_MODEL)
    expect(learner.locator("[data-pane]")).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)

    # then the embedded board moves: erin climbs to the top, shown rising, with her week's XP
    expect(rows.locator(".name")).to_have_text(["erin", "carol", "dan"])
    erin = User.objects.get(username="erin")
    top = rows.first
    expect(top).to_have_attribute("data-rank", "1")
    expect(top).to_have_attribute("data-score", str(erin.experience_points))
    expect(top.locator(".move")).to_have_class(re.compile(r"\bup\b"))
    expect(frame_rows).to_have_text(["erin", "carol", "dan"])
    screenshot(viewer, "widget-embedded")


def test_the_widget_on_a_site_that_is_not_allowed_stays_empty_and_says_so(new_context, other_site, server):
    # given a page on a site missing from WIDGET_ALLOWED_ORIGINS
    other_site.pages["/embed.html"] = _embed_page(server.http_url)
    viewer = new_context().new_page()

    # when it loads the widget
    viewer.goto(f"{other_site.origin(REFUSED_SITE_HOST)}/embed.html")

    # then the socket is refused: no rows, and a clear note
    widget = viewer.locator(".promptcraft-leaderboard")
    expect(widget.locator(".note")).to_have_text("The live leaderboard is not available on this site.", timeout=20_000)
    expect(widget.locator("li")).to_have_count(0)

    # while on the app's own leaderboard page a visitor who is not logged in sees the live board
    _make_player("ivy")
    _award("ivy", 4)
    viewer.goto(f"{server.http_url}/leaderboard/")
    expect(viewer.get_by_role("link", name="Log in")).to_be_visible()
    expect(viewer.locator("[data-live-board] li[data-username] .name")).to_have_text(["ivy"])
    expect(viewer.locator("[data-around-section]")).to_be_hidden()


def test_the_leaderboard_page_shows_the_live_board_and_the_learner_around_them(page):
    # given players with XP this week
    _make_player("fay")
    _award("fay", 7)
    sign_up(page, "gus")
    _award("gus", 3)

    # when the learner opens the leaderboard page
    page.get_by_role("link", name="Leaderboard").click()
    expect(page.locator("body[data-leaderboard-ready='true']")).to_be_attached()

    # then the live board and the window around them are shown
    live_rows = page.locator("[data-live-board] li[data-username] .name")
    expect(live_rows).to_have_text(["fay", "gus"])
    expect(page.locator("[data-around] li.me")).to_have_text(re.compile(r"#2 gus\s*3 XP"))

    # when they earn XP while watching, the board reorders live
    _award("gus", 10)
    expect(live_rows).to_have_text(["gus", "fay"])
    expect(page.locator('[data-toast="xp"]').first).to_contain_text("+10 XP")

    # and switching to the all-time board works from the keyboard
    page.get_by_role("tab", name="This week").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="This month")).to_have_attribute("aria-selected", "true")
    expect(live_rows).to_have_text(["gus", "fay"])
    screenshot(page, "leaderboard")
