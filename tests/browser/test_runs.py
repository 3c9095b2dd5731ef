"""Run history pages in a real browser: filters, search, pages, a run's detail, open in playground, compare."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from llm.models import LLMRun
from prompts import services as prompt_services
from tests.browser.support import screenshot, sign_up, wait_playground

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_MODEL = "local:gemma-3-270m"
User = get_user_model()


def _run(user, *, at: datetime | None = None, **fields) -> LLMRun:
    fields = {
        "model": LOCAL_MODEL,
        "prompt": "p",
        "status": "completed",
        "output": "o",
        "input_tokens": 5,
        "output_tokens": 7,
        "reserved_credits": 20,
        "cost_credits": 3,
        "ttft_ms": 120,
        "latency_ms": 900,
        **fields,
    }
    run = LLMRun.objects.create(user=user, **fields)
    if at is not None:
        LLMRun.objects.filter(pk=run.pk).update(created_at=at)
    return run


def _wait_loaded(page: Page, count: int) -> None:
    """The history has answered `count` times (each filter change, page turn or reload loads once)."""
    expect(page.locator(f"body[data-runs-loaded='{count}']")).to_be_attached()


def _rows(page: Page):
    return page.locator("[data-run-row]")


def _no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_history_filters_searches_and_turns_pages(page):
    # given a learner with 24 runs: 20 plain, 2 failed, one from a template, one mentioning a needle, 2 from January
    sign_up(page, "rhea")
    rhea = User.objects.get(username="rhea")
    template = prompt_services.template_create(owner=rhea, title="Greeter", content="Hi {{name}}")
    now = datetime.now(UTC)
    for i in range(18):
        _run(rhea, prompt=f"Question number {i}", at=now - timedelta(minutes=30 + i))
    for i in range(2):
        _run(rhea, prompt=f"Broken {i}", status="failed", error_code="provider_error", at=now - timedelta(minutes=5))
    _run(rhea, prompt="Hi Ada", template=template, variables={"name": "Ada"}, at=now - timedelta(minutes=3))
    _run(rhea, prompt="Find the NEEDLE in the haystack", at=now - timedelta(minutes=2))
    _run(rhea, prompt="Winter run one", at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    _run(rhea, prompt="Winter run two", at=datetime(2026, 1, 11, 12, tzinfo=UTC))

    # when they open the runs from the header
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    page.wait_for_url(re.compile(r"/runs/$"))
    _wait_loaded(page, 1)

    # then the newest 20 show, with a way to the next page
    expect(page.locator("[data-result-count]")).to_have_text("24 runs")
    expect(_rows(page)).to_have_count(20)
    expect(_rows(page).first).to_contain_text("Find the NEEDLE")
    expect(page.locator("[data-page-label]")).to_have_text("Page 1 of 2")
    page.get_by_role("button", name="Next").click()
    _wait_loaded(page, 2)
    expect(_rows(page)).to_have_count(4)
    expect(page.locator("[data-page-label]")).to_have_text("Page 2 of 2")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(_rows(page).last).to_contain_text("Winter run one")
    page.get_by_role("button", name="Previous").click()
    _wait_loaded(page, 3)
    expect(_rows(page)).to_have_count(20)

    # when they search in prompts (any case)
    page.get_by_label("Search in prompts").fill("needle")
    page.get_by_role("button", name="Apply").click()
    _wait_loaded(page, 4)
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page)).to_contain_text("Find the NEEDLE in the haystack")
    expect(page).to_have_url(re.compile(r"search=needle"))

    # and the filters stay in the address: a reload keeps them
    page.reload()
    _wait_loaded(page, 1)
    expect(page.get_by_label("Search in prompts")).to_have_value("needle")
    expect(_rows(page)).to_have_count(1)

    # when they filter by status instead
    page.get_by_role("button", name="Clear").click()
    _wait_loaded(page, 2)
    expect(page.locator("[data-result-count]")).to_have_text("24 runs")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Apply").click()
    _wait_loaded(page, 3)
    expect(_rows(page)).to_have_count(2)
    expect(_rows(page).first.locator(".status")).to_have_text("failed")

    # by template
    page.get_by_label("Status").select_option("")
    page.get_by_label("Template").select_option(label="Greeter")
    page.get_by_role("button", name="Apply").click()
    _wait_loaded(page, 4)
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page)).to_contain_text("Hi Ada")

    # by dates (From / To, both days included) and model
    page.get_by_label("Template").select_option("")
    page.get_by_label("From", exact=True).fill("2026-01-11")
    page.get_by_label("To", exact=True).fill("2026-01-31")
    page.get_by_label("Model").select_option(LOCAL_MODEL)
    page.get_by_role("button", name="Apply").click()
    _wait_loaded(page, 5)
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page)).to_contain_text("Winter run two")

    # a range that ends before it starts is refused next to the field
    page.get_by_label("To", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Apply").click()
    _wait_loaded(page, 6)
    expect(page.locator('[data-error-for="created_before"]')).to_have_text("Must be later than created_after.")
    screenshot(page, "runs-history-desktop")

    # and on a phone the list fits the width
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/runs/")
    _wait_loaded(page, 1)
    expect(_rows(page)).to_have_count(20)
    _no_horizontal_scroll(page)
    screenshot(page, "runs-history-phone")


def test_detail_opens_in_the_playground_and_two_runs_compare(page):
    # given a learner with two runs of one prompt, at different temperatures, one of them failed
    sign_up(page, "cleo")
    cleo = User.objects.get(username="cleo")
    first = _run(
        cleo,
        prompt="Name three primary colours.",
        system="You answer in one line.",
        params={"temperature": 0.3, "max_tokens": 48},
        output="Red, yellow and blue.",
        input_tokens=11,
        output_tokens=6,
        cost_credits=4,
        ttft_ms=210,
        latency_ms=1450,
        at=datetime.now(UTC) - timedelta(minutes=5),
    )
    second = _run(
        cleo,
        prompt="Name three primary colours of light.",
        params={"temperature": 1.0, "max_tokens": 32},
        output="Red, green and",
        status="failed",
        error_code="provider_error",
        error_message="The provider stopped answering.",
    )

    # when they open the first run's detail from the history
    page.goto("/runs/")
    _wait_loaded(page, 1)
    page.get_by_role("link", name="Name three primary colours.", exact=True).click()
    page.wait_for_url(re.compile(rf"/runs/{first.pk}/$"))
    expect(page.locator("body[data-run-ready='true']")).to_be_attached()

    # then its prompt, parameters, output, tokens, cost and timings are shown
    expect(page.locator("[data-run-prompt]")).to_have_text("Name three primary colours.")
    expect(page.locator("[data-run-system]")).to_have_text("You answer in one line.")
    expect(page.locator("[data-run-output]")).to_have_text("Red, yellow and blue.")
    params = page.locator("[data-run-params]")
    expect(params).to_contain_text("Temperature0.3")
    expect(params).to_contain_text("Max tokens48")
    stats = page.locator("[data-run-stats]")
    expect(stats).to_contain_text("Tokens in / out11 / 6")
    expect(stats).to_contain_text("Cost4 credits")
    expect(stats).to_contain_text("First token210 ms")
    expect(stats).to_contain_text("Total time1.45 s")
    expect(page.locator("[data-run-error]")).to_be_hidden()
    screenshot(page, "run-detail")

    # when they open it in the playground
    page.get_by_role("link", name="Open in playground").click()
    page.wait_for_url(re.compile(rf"/\?run={first.pk}$"))
    wait_playground(page)

    # then the form holds the run's prompt, system prompt, parameters and model, ready to run again
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("Name three primary colours.")
    expect(page.get_by_label("System prompt")).to_have_value("You answer in one line.")
    expect(page.get_by_label("Temperature")).to_have_value("0.3")
    expect(page.get_by_label("Max tokens")).to_have_value("48")
    expect(page.get_by_label("Model", exact=True)).to_have_value(LOCAL_MODEL)
    expect(page.locator("[data-form-error]")).to_be_hidden()
    # the playground's own history links to all runs
    expect(page.locator("[data-all-runs]")).to_have_attribute("href", "/runs/")

    # a failed run's detail says why
    page.goto(f"/runs/{second.pk}/")
    expect(page.locator("[data-run-error]")).to_have_text("provider_error: The provider stopped answering.")

    # when they choose "Compare with…" there, then tick the other run in the history
    page.get_by_role("link", name="Compare with…").click()
    _wait_loaded(page, 1)
    expect(page.locator(f'[data-compare-pick="{second.pk}"]')).to_be_checked()
    expect(page.locator("[data-compare-hint]")).to_have_text("Tick one more run to compare.")
    compare = page.get_by_role("link", name="Compare selected")
    expect(compare).to_be_hidden()
    page.locator(f'[data-compare-pick="{first.pk}"]').check()
    compare.click()
    page.wait_for_url(re.compile(rf"/runs/compare/\?a={second.pk}&b={first.pk}$"))
    expect(page.locator("body[data-compare-ready='true']")).to_be_attached()

    # then both show side by side with the changes between them
    expect(page.locator("[data-compare-run]")).to_have_count(2)
    expect(page.locator('[data-compare-output="A"]')).to_have_text("Red, green and")
    expect(page.locator('[data-compare-output="B"]')).to_have_text("Red, yellow and blue.")
    expect(page.locator("[data-compare-run]").first).to_contain_text("Temperature1")
    expect(page.locator("[data-compare-run]").last).to_contain_text("Temperature0.3")
    output_diff = page.locator("[data-output-diff]")
    expect(output_diff.locator("del")).to_have_text(["green"])
    expect(output_diff.locator("ins")).to_have_text(["yellow", " blue."])
    prompt_diff = page.locator("[data-prompt-diff]")
    expect(prompt_diff.locator("del")).to_contain_text([" of light."])
    expect(prompt_diff.locator("ins")).to_contain_text(["[system] You answer in one line."])
    screenshot(page, "runs-compare-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_horizontal_scroll(page)
    screenshot(page, "runs-compare-phone")


def test_another_learners_run_is_not_found(page, new_context):
    # given two learners, one with a run
    sign_up(page, "dora")
    _run(User.objects.get(username="dora"), prompt="Dora's private prompt")
    theirs = LLMRun.objects.get(prompt="Dora's private prompt")
    other = new_context().new_page()
    sign_up(other, "emil")

    # when the other opens its address, its comparison, or the playground with it
    other.goto(f"/runs/{theirs.pk}/")
    expect(other.locator("[data-form-error]")).to_contain_text("Not found")
    other.goto(f"/runs/compare/?a={theirs.pk}&b={theirs.pk}")
    expect(other.locator("[data-form-error]")).to_contain_text("Not found")
    other.goto(f"/?run={theirs.pk}")
    wait_playground(other)

    # then nothing of it shows
    expect(other.locator("[data-form-error]")).to_contain_text("Not found")
    expect(other.get_by_label("Prompt", exact=True)).to_have_value("")
    assert "Dora" not in other.content()
