"""The template library in a real browser: write a template with typed variables, run it, browse, rate, fork."""

import random
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.support import RUN_TIMEOUT_MS, in_thread, screenshot, set_params, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

User = get_user_model()


def test_a_learner_writes_a_template_and_runs_it_through_its_variable_form(page):
    # given a learner on the new-template page
    sign_up(page, "ada")
    page.get_by_role("link", name="Library").click()
    page.get_by_role("link", name="New template").click()
    expect(page.locator("body[data-editor-ready='true']")).to_be_attached()

    # when they write content with two variables, the variables list follows as they type
    page.get_by_label("Title").fill("Colour fact")
    page.get_by_label("Description").fill("One fact about a colour, in the tone you pick.")
    content = page.get_by_label("Content")
    content.fill("Give one {{ 1tone }} fact")
    expect(page.locator("[data-content-problem]")).to_contain_text("Malformed placeholder “{{ 1tone }}” at line 1")
    content.fill("Give one {{ tone }} fact")
    expect(page.locator("[data-content-problem]")).to_be_hidden()
    expect(page.locator("[data-variable-count]")).to_have_text("1")
    content.fill("Give one {{ tone }} fact about the colour {{colour}}.")
    expect(page.locator("[data-variable-count]")).to_have_text("2")
    expect(page.locator("[data-spec-for]")).to_have_count(2)

    # and they make `tone` a choice and label `colour`
    page.locator("#spec-tone-type").select_option("enum")
    page.locator("#spec-tone-choices").fill("fun, serious")
    page.locator("#spec-colour-label").fill("Colour name")
    page.locator("#spec-colour-help").fill("Any colour, e.g. green.")
    page.get_by_label("Visibility").select_option("public")
    screenshot(page, "template-editor")
    page.get_by_role("button", name="Save").click()

    # then the template page shows the variables with their specs and version 1
    page.wait_for_url(re.compile(r"/library/[0-9a-f-]{36}/$"))
    template_page = page.url
    expect(page.locator("[data-t-title]")).to_have_text("Colour fact")
    expect(page.locator("[data-t-variables] li")).to_have_text(
        ["tone — enum, required (fun, serious)", "colour — text, required · Any colour, e.g. green."]
    )
    expect(page.locator("[data-t-versions] li")).to_have_count(1)
    screenshot(page, "template-detail")

    # when they run it from the playground's generated form, leaving the colour empty first
    page.get_by_role("link", name="Run in playground").click()
    expect(page.locator("[data-variable-form] select#var-tone option")).to_have_text(["fun", "serious"])
    set_params(page, max_tokens=12)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator('[data-variable-form] [data-error-for="colour"]')).to_have_text("This variable is required.")
    page.get_by_label("Colour name").fill("green")
    page.get_by_label("Tone").select_option("serious")
    page.get_by_role("button", name="Run", exact=True).click()

    # then the rendered template runs and streams to completion
    pane = page.locator("[data-pane]")
    expect(pane).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    from llm.models import LLMRun

    run = LLMRun.objects.get(pk=pane.get_attribute("data-run-id"))
    assert run.prompt == "Give one serious fact about the colour green."
    expect(page.locator("[data-pane-output]")).to_have_text(run.output)
    screenshot(page, "playground-template-run")

    # and the template's page shows its author the run in its usage
    page.goto(template_page)
    expect(page.locator("[data-t-usage] .stat").first).to_have_text("Runs1")
    expect(page.locator("[data-chart-table='uses'] tbody tr")).to_have_count(30)


def test_others_find_rate_favourite_and_fork_a_public_template(page, new_context):
    # given an author with three public templates and one private one
    from prompts.services import template_create

    author = User.objects.create_user(username="author", email="author@example.com", password="x-Str0ng-pass!")
    for title, content, difficulty in [
        ("JSON extractor", "Return JSON with the fields {{ fields }} from: {{ text }}", "intermediate"),
        ("Few-shot classifier", "Classify {{ item }} like the examples.", "advanced"),
        ("Role prompt", "You are a {{ role }}. Answer: {{ question }}", "beginner"),
    ]:
        in_thread(
            template_create, owner=author, title=title, content=content, difficulty=difficulty, visibility="public"
        )
    in_thread(template_create, owner=author, title="Secret draft", content="Hidden {{ x }}", visibility="private")

    # when a learner browses the library
    sign_up(page, "reader")
    page.goto("/library/")
    expect(page.locator("body[data-library-ready='true']")).to_be_attached()

    # then they see the public templates only, and can search and filter them
    expect(page.locator("[data-result-count]")).to_have_text("3 templates")
    expect(page.locator("[data-template-card]")).to_have_count(3)
    screenshot(page, "library")
    page.get_by_label("Search").fill("JSON")
    expect(page.locator("[data-template-card] h2")).to_have_text(["JSON extractor"])
    page.get_by_label("Search").fill("")
    page.get_by_label("Difficulty").select_option("advanced")
    expect(page.locator("[data-template-card] h2")).to_have_text(["Few-shot classifier"])

    # when they open it, favourite it and rate it 4 stars
    page.get_by_role("link", name="Few-shot classifier").click()
    expect(page.locator("body[data-detail-ready='true']")).to_be_attached()
    expect(page.locator("[data-t-insights]")).to_be_hidden()
    page.get_by_role("button", name=re.compile("Favourite")).click()
    expect(page.locator("[data-t-favorite]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-t-favorite]")).to_have_text("★ Favourited (1)")
    page.locator("label[for='star4']").click()
    page.get_by_role("button", name="Rate").click()
    expect(page.locator("[data-t-rating]")).to_have_text("★ 4.00 from 1 rating")

    # and their favourites are one filter away
    page.go_back()
    page.reload()
    expect(page.locator("body[data-library-ready='true']")).to_be_attached()
    page.get_by_label("My favourites").check()
    expect(page.locator("[data-template-card] h2")).to_have_text(["Few-shot classifier"])
    page.get_by_role("link", name="Few-shot classifier").click()
    expect(page.locator("body[data-detail-ready='true']")).to_be_attached()
    expect(page.locator("#star4")).to_be_checked()

    # and fork it
    page.get_by_role("button", name="Fork").click()

    # then they edit their own private copy
    page.wait_for_url(re.compile(r"/library/[0-9a-f-]{36}/edit/$"))
    expect(page.get_by_label("Title")).to_have_value("Few-shot classifier")
    expect(page.get_by_label("Visibility")).to_have_value("private")
    expect(page.locator("[data-spec-for]")).to_have_count(1)

    # when they change the content and save
    page.get_by_label("Content").fill("Classify {{ item }} as {{ label_set }}, like the examples.")
    expect(page.locator("[data-spec-for]")).to_have_count(2)
    page.get_by_role("button", name="Save").click()

    # then their copy has a second version, and the original is untouched
    page.wait_for_url(re.compile(r"/library/[0-9a-f-]{36}/$"))
    expect(page.locator("[data-t-meta]")).to_contain_text("version 2")
    expect(page.locator("[data-t-versions] li")).to_have_count(2)
    expect(page.locator("[data-t-content]")).to_have_text("Classify {{ item }} as {{ label_set }}, like the examples.")
    from prompts.models import PromptTemplate

    original = PromptTemplate.objects.get(title="Few-shot classifier", owner=author)
    assert (original.version, original.content) == (1, "Classify {{ item }} like the examples.")


def test_the_editor_finds_the_same_variables_and_placeholder_errors_as_the_server(page):
    # given many contents mixing braces, names, digits, spaces and newlines (seeded, so repeatable)
    from prompts.variables import TemplateSyntaxError, parse_variables

    rng = random.Random(20261126)
    pieces = ["{{", "}}", "{", "}", " ", "a", "b_1", "1x", "_", "\n", "{{ tone }}", "{{x}}", "text "]
    contents = ["", "plain", "{{ a }}{{a}} {{ b }}", "{{ 1x }}", "open {{ x", "{{a}}{{b}", "{{ a {{ b }}"]
    contents += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(400)]

    def server_view(content: str) -> list:
        try:
            return [parse_variables(content), False]
        except TemplateSyntaxError:
            return [None, True]

    # when the page's parser reads them
    page.goto("/login/")
    browser_view = page.evaluate(
        """async (contents) => {
          const { scanVariables } = await import('/static/web/js/variables.js');
          return contents.map(c => { const r = scanVariables(c); return r.problem ? [null, true] : [r.names, false]; });
        }""",
        contents,
    )

    # then it agrees with the server on every one: the same names, or a problem exactly when the server refuses
    mismatches = [(c, b, server_view(c)) for c, b in zip(contents, browser_view, strict=True) if b != server_view(c)]
    assert mismatches == []
