"""The template library in a real browser: write a template with typed variables, run it, browse, rate, fork."""

import json
import random
import re
import time
from pathlib import Path

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


# --- delete with undo, import and export, versions ------------------------------------------------


def _user(username: str):
    return User.objects.get(username=username)


def _template(owner, title: str, content: str = "Say {{ thing }}.", visibility: str = "private"):
    from prompts.services import template_create

    return in_thread(template_create, owner=owner, title=title, content=content, visibility=visibility)


def _exists(title: str) -> bool:
    from prompts.models import PromptTemplate

    return PromptTemplate.objects.filter(title=title).exists()


def _wait_until(condition, *, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _open_library(page) -> None:
    page.goto("/library/")
    expect(page.locator("body[data-library-ready='true']")).to_be_attached()


def _card(page, title: str):
    return page.locator("[data-template-card]").filter(has=page.get_by_role("link", name=title, exact=True))


def test_an_owner_deletes_with_confirmation_and_can_undo_for_a_few_seconds(page):
    # given a learner with two templates of their own, and someone else's public one
    sign_up(page, "dora")
    dora = _user("dora")
    _template(dora, "Keep me")
    _template(dora, "Drop me")
    other = User.objects.create_user(username="eve", email="eve@example.com", password="x-Str0ng-pass!")
    _template(other, "Not yours", visibility="public")
    _open_library(page)
    expect(page.locator("[data-result-count]")).to_have_text("3 templates")

    # then only their own cards offer Delete
    expect(_card(page, "Not yours").locator("[data-delete]")).to_have_count(0)
    expect(page.locator("[data-delete]")).to_have_count(2)

    # when they ask to delete one and cancel the dialog with Escape, nothing happens and focus returns
    _card(page, "Keep me").get_by_role("button", name="Delete Keep me").click()
    dialog = page.get_by_role("dialog", name="Delete “Keep me”?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(_card(page, "Keep me").locator("[data-delete]")).to_be_focused()

    # when they confirm, the card goes at once and an undo toast takes focus
    _card(page, "Keep me").get_by_role("button", name="Delete Keep me").click()
    screenshot(page, "library-delete-confirm")
    dialog.get_by_role("button", name="Delete template").click()
    expect(_card(page, "Keep me")).to_be_hidden()
    expect(page.locator("[data-result-count]")).to_have_text("2 templates")
    undo = page.locator("[data-undo-for]").get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    screenshot(page, "library-delete-undo-toast")

    # and Undo brings it back; it was never deleted, nor is it once the few seconds have passed
    undo.click()
    expect(_card(page, "Keep me")).to_be_visible()
    expect(page.locator("[data-result-count]")).to_have_text("3 templates")
    page.wait_for_timeout(6500)
    assert _exists("Keep me")
    page.reload()
    expect(page.locator("body[data-library-ready='true']")).to_be_attached()
    expect(_card(page, "Keep me")).to_be_visible()

    # when they delete the other one and let the toast run out
    _card(page, "Drop me").get_by_role("button", name="Delete Drop me").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete template").click()
    expect(page.locator("[data-undo-for]")).to_have_count(1)
    assert _exists("Drop me")  # only hidden while it can still be undone

    # then the DELETE goes when the toast expires, and the template is gone after a reload
    expect(page.locator("[data-undo-for]")).to_have_count(0, timeout=10_000)
    assert _wait_until(lambda: not _exists("Drop me"))
    page.reload()
    expect(page.locator("body[data-library-ready='true']")).to_be_attached()
    expect(page.locator("[data-template-card] h2")).to_have_text(["Not yours", "Keep me"])


def test_leaving_the_page_inside_the_undo_window_still_deletes(page):
    # given a learner with a template, whose first DELETE the network loses
    sign_up(page, "finn")
    _template(_user("finn"), "Short-lived")
    _open_library(page)

    def lose_deletes(route) -> None:
        if route.request.method == "DELETE":
            route.abort()
        else:
            route.continue_()

    page.route("**/api/v1/templates/*/", lose_deletes)
    _card(page, "Short-lived").get_by_role("button", name="Delete Short-lived").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete template").click()
    expect(page.get_by_role("button", name="Undo")).to_be_focused()

    # when they dismiss the toast with Escape (delete now) and the request fails, the card comes back
    page.keyboard.press("Escape")
    expect(page.locator("[data-toast='error']")).to_contain_text("“Short-lived” could not be deleted. Try again.")
    expect(_card(page, "Short-lived")).to_be_visible()
    assert _exists("Short-lived")
    page.unroute("**/api/v1/templates/*/", lose_deletes)

    # given they have just confirmed deleting it again
    _card(page, "Short-lived").get_by_role("button", name="Delete Short-lived").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete template").click()
    expect(page.locator("[data-undo-for]")).to_have_count(1)

    # when they navigate away at once
    page.get_by_role("link", name="Challenges").click()
    page.wait_for_url(re.compile(r"/challenges/$"))

    # then the page's last request deleted it
    assert _wait_until(lambda: not _exists("Short-lived"))
    _open_library(page)
    expect(page.locator("[data-result-count]")).to_have_text("0 templates")


def _document(title: str = "Imported tone guide") -> dict:
    return {
        "format": "promptcraft.template",
        "format_version": 1,
        "template": {
            "title": title,
            "description": "From a file.",
            "content": "Write {{ text }} in a {{ tone }} tone.",
            "variable_specs": {"tone": {"type": "enum", "choices": ["calm", "bold"]}},
            "tags": ["tone"],
            "difficulty": "intermediate",
        },
        "versions": [
            {"number": 1, "title": title, "content": "Write {{ text }}."},
            {
                "number": 2,
                "title": title,
                "content": "Write {{ text }} in a {{ tone }} tone.",
                "variable_specs": {"tone": {"type": "enum", "choices": ["calm", "bold"]}},
            },
        ],
    }


def test_a_learner_imports_a_template_file_and_exports_it_back(page, tmp_path):
    # given a learner with an exported template file, a file that is not JSON and an invalid document
    sign_up(page, "gail")
    good = tmp_path / "tone.json"
    good.write_text(json.dumps(_document()))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({**_document(), "template": {"content": "Hi {{ x }}"}}))
    _open_library(page)
    file_input = page.locator("[data-import-file]")

    # when they pick files that cannot be imported, the page says why and creates nothing
    file_input.set_input_files(str(broken))
    expect(page.locator("[data-form-error]")).to_have_text(
        "“broken.json” is not valid JSON. Choose a file exported from a template page."
    )
    file_input.set_input_files(str(invalid))
    expect(page.locator("[data-form-error]")).to_have_text(
        "Could not import “invalid.json”. template: title: This field is required."
    )
    from prompts.models import PromptTemplate

    assert PromptTemplate.objects.count() == 0

    # when they import the good one
    file_input.set_input_files(str(good))

    # then its page shows the new private template with its history
    page.wait_for_url(re.compile(r"/library/[0-9a-f-]{36}/$"))
    expect(page.locator("body[data-detail-ready='true']")).to_be_attached()
    expect(page.locator("[data-t-title]")).to_have_text("Imported tone guide")
    expect(page.locator("[data-t-meta]")).to_contain_text("private · version 2")
    expect(page.locator("[data-t-versions] li")).to_have_count(2)
    expect(page.locator("[data-toast]").filter(has_text="Imported")).to_be_visible()
    template = PromptTemplate.objects.get(owner__username="gail")
    assert (template.title, template.version, template.content) == (
        "Imported tone guide",
        2,
        "Write {{ text }} in a {{ tone }} tone.",
    )

    # when they export it
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export JSON").click()
    download = download_info.value

    # then the file is the template's export document, the same as the file it came from
    assert download.suggested_filename == "imported-tone-guide.promptcraft.json"
    exported = json.loads(Path(download.path()).read_text())
    uploaded = _document()
    assert exported["format"] == "promptcraft.template"
    assert {key: exported["template"][key] for key in uploaded["template"]} == {
        **uploaded["template"],
        "variable_specs": exported["template"]["variable_specs"],
    }
    assert exported["template"]["variable_specs"]["tone"]["choices"] == ["calm", "bold"]
    assert [(v["number"], v["content"]) for v in exported["versions"]] == [
        (v["number"], v["content"]) for v in uploaded["versions"]
    ]
    screenshot(page, "template-imported")


def test_versions_are_viewed_compared_side_by_side_and_restored(page, new_context):
    # given a learner's public template edited twice
    from prompts.services import template_update

    sign_up(page, "hana")
    hana = _user("hana")
    template = _template(hana, "Summary", "Summarise {{ text }} for {{ audience }}.", visibility="public")
    in_thread(template_update, template=template, actor=hana, content="Summarise {{ text }} briefly for experts.")
    in_thread(template_update, template=template, actor=hana, title="Brief summary", content="Sum up {{ text }}.")
    page.goto(f"/library/{template.pk}/")
    expect(page.locator("body[data-detail-ready='true']")).to_be_attached()
    expect(page.locator("[data-t-versions] li")).to_have_count(3)

    # when they view version 1, its own content and variables show, with a restore button
    page.get_by_role("button", name="View version 1").click()
    view = page.locator("[data-version-view]")
    expect(view.locator("[data-version-title]")).to_have_text("Version 1: Summary")
    expect(view.locator("[data-version-content]")).to_have_text("Summarise {{ text }} for {{ audience }}.")
    expect(view.locator("[data-version-variables]")).to_have_text("Variables: text, audience")
    expect(view.get_by_role("button", name="Restore this version")).to_be_visible()
    page.get_by_role("button", name="View version 3").click()
    expect(view.locator("[data-version-title]")).to_have_text("Version 3 (current): Brief summary")
    expect(view.get_by_role("button", name="Restore this version")).to_be_hidden()

    # when they compare version 1 with version 2
    page.get_by_label("Older").select_option("1")
    page.get_by_label("Newer").select_option("2")
    page.get_by_role("button", name="Show differences").click()

    # then the two prompts show side by side, the removals struck on the left and additions on the right
    diff = page.locator("[data-version-diff]")
    expect(diff.locator("[data-diff-title]")).to_have_text("Version 1 → version 2")
    expect(diff.locator("[data-diff-left]")).to_have_text("Summarise {{ text }} for {{ audience }}.")
    expect(diff.locator("[data-diff-right]")).to_have_text("Summarise {{ text }} briefly for experts.")
    expect(diff.locator("[data-diff-left] del")).to_have_text(["{{ audience }}."])
    expect(diff.locator("[data-diff-right] ins")).to_have_text(["briefly", "experts."])
    expect(diff.locator("[data-diff-summary]")).to_contain_text("Prompt: 1 removal, 2 additions.")
    left = diff.locator("[data-diff-left]").bounding_box()
    right = diff.locator("[data-diff-right]").bounding_box()
    assert left["x"] + left["width"] <= right["x"] and abs(left["y"] - right["y"]) < 40
    screenshot(page, "template-versions-diff")

    # and version 1 against 3 shows the title change too
    page.get_by_label("Older").select_option("1")
    page.get_by_label("Newer").select_option("3")
    page.get_by_role("button", name="Show differences").click()
    expect(diff.locator("[data-diff-left-name] del")).to_have_text("Summary")
    expect(diff.locator("[data-diff-right-name] ins")).to_have_text("Brief summary")

    # when they restore version 1
    page.get_by_role("button", name="View version 1").click()
    view.get_by_role("button", name="Restore this version").click()

    # then it is the new version 4, the page shows it, and the history keeps every version
    expect(page.locator("[data-t-meta]")).to_contain_text("version 4")
    expect(page.locator("[data-t-title]")).to_have_text("Summary")
    expect(page.locator("[data-t-content]")).to_have_text("Summarise {{ text }} for {{ audience }}.")
    expect(page.locator("[data-t-versions] li")).to_have_count(4)
    expect(page.locator("[data-toast]").filter(has_text="Version 1 is now version 4.")).to_be_visible()
    template.refresh_from_db()
    assert (template.version, template.content) == (4, "Summarise {{ text }} for {{ audience }}.")

    # and on a phone the history stacks, with no sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Show differences").click()
    expect(diff).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    left = diff.locator("[data-diff-left]").bounding_box()
    right = diff.locator("[data-diff-right]").bounding_box()
    assert right["y"] >= left["y"] + left["height"]
    screenshot(page, "template-versions-diff-phone")

    # when another learner opens it, they can view and compare but not restore
    reader = new_context().new_page()
    sign_up(reader, "ivan")
    reader.goto(f"/library/{template.pk}/")
    expect(reader.locator("body[data-detail-ready='true']")).to_be_attached()
    reader.get_by_role("button", name="View version 2").click()
    expect(reader.locator("[data-version-content]")).to_have_text("Summarise {{ text }} briefly for experts.")
    expect(reader.get_by_role("button", name="Restore this version")).to_be_hidden()


def _tab_to(page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_delete_undo_and_import(page, tmp_path):
    # given a learner with one template, on the library page at phone width
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, "jo")
    _template(_user("jo"), "Keyboard kept")
    _open_library(page)

    # when they reach Delete with Tab, confirm with the keyboard and press Enter on Undo
    _tab_to(page, "[data-delete]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Delete template")).to_be_focused()
    screenshot(page, "library-delete-confirm-phone")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "library-delete-undo-phone")
    page.keyboard.press("Enter")

    # then the template is back and focus is on its Delete button again
    expect(_card(page, "Keyboard kept")).to_be_visible()
    expect(page.locator("[data-delete]")).to_be_focused()
    assert _exists("Keyboard kept")

    # when they delete it again and dismiss the toast with Escape, it is deleted at once
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    page.keyboard.press("Escape")
    assert _wait_until(lambda: not _exists("Keyboard kept"), timeout=4)
    expect(_card(page, "Keyboard kept")).to_have_count(0)

    # when they Tab to the import control and open the file chooser with Space
    path = tmp_path / "from-keyboard.json"
    path.write_text(json.dumps(_document("Keyboard import")))
    _tab_to(page, "[data-import-file]")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(path))

    # then the imported template opens, and its export is a keyboard press away
    page.wait_for_url(re.compile(r"/library/[0-9a-f-]{36}/$"))
    expect(page.locator("body[data-detail-ready='true']")).to_be_attached()
    expect(page.locator("[data-t-title]")).to_have_text("Keyboard import")
    _tab_to(page, "[data-t-export]")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    assert json.loads(Path(download_info.value.path()).read_text())["template"]["title"] == "Keyboard import"

    # and a version is viewed and restored with the keyboard alone
    _tab_to(page, "[data-view-version='1']")
    page.keyboard.press("Enter")
    expect(page.locator("[data-version-view]")).to_be_focused()
    _tab_to(page, "[data-restore]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-t-meta]")).to_contain_text("version 3")
    expect(page.locator("[data-t-content]")).to_have_text("Write {{ text }}.")
