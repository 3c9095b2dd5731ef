"""The playground in a real browser: streaming the local model, stop, live XP, errors, reconnect and resume."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import WebSocketRoute, expect

from llm import registry
from tests.browser.support import (
    LONG_PROMPT,
    RUN_TIMEOUT_MS,
    in_thread,
    output_growth,
    run_free_prompt,
    screenshot,
    sign_up,
    wait_playground,
    watch_output_growth,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOCAL_MODEL = "local:gemma-3-270m"
User = get_user_model()


def _run_row(run_id: str):
    from llm.models import LLMRun

    return LLMRun.objects.get(pk=run_id)


def test_a_new_learner_streams_the_local_model_stops_a_run_and_sees_xp_arrive_live(page):
    # given a learner who just signed up, on the playground
    sign_up(page, "ada")
    pane = page.locator("[data-pane]")

    # when they run a free prompt on the local model
    watch_output_growth(page)
    # (long enough to earn run XP: a run must produce RUN_MIN_OUTPUT_TOKENS)
    run_free_prompt(page, "Explain in two sentences why the sky is blue.", max_tokens=40, model=LOCAL_MODEL)

    # then the answer grows in several steps, then the run's figures are shown
    expect(pane).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    growth = output_growth(page)
    assert len([n for n in growth if n > 0]) >= 3, growth
    assert growth == sorted(growth)
    run = _run_row(pane.get_attribute("data-run-id"))
    assert (run.status, run.output) == ("completed", page.locator("[data-pane-output]").text_content())
    expect(pane.locator('[data-stat="tokens"]')).to_have_text(f"{run.input_tokens} / {run.output_tokens}")
    unit = "credit" if run.cost_credits == 1 else "credits"
    expect(pane.locator('[data-stat="cost"]')).to_have_text(f"{run.cost_credits} {unit}")
    expect(pane.locator('[data-stat="ttft"]')).not_to_have_text("–")
    expect(pane.locator('[data-stat="latency"]')).not_to_have_text("–")

    # and the XP toast arrives and the header shows the new totals
    expect(page.locator('[data-toast="xp"]').first).to_be_visible()
    ada = User.objects.get(username="ada")
    assert ada.experience_points > 0
    expect(page.locator("[data-player-xp]")).to_have_text(f"{ada.experience_points:,}")
    expect(page.locator("[data-player-credits]")).to_have_text(f"{ada.credits:,}")
    expect(page.locator("[data-recent-runs] [data-run-id]").first).to_have_attribute("data-run-id", str(run.id))
    screenshot(page, "playground-completed")

    # when they start a long run and press Stop once text is arriving
    run_free_prompt(page, LONG_PROMPT, max_tokens=400, model=LOCAL_MODEL)
    expect(page.locator("[data-pane-output]")).not_to_be_empty(timeout=RUN_TIMEOUT_MS)
    page.get_by_role("button", name="Stop").click()

    # then the run ends as stopped, keeping exactly the text the server kept
    expect(pane).to_have_attribute("data-status", "cancelled", timeout=RUN_TIMEOUT_MS)
    stopped = _run_row(pane.get_attribute("data-run-id"))
    assert stopped.status == "cancelled"
    assert 0 < stopped.output_tokens < 400
    expect(page.locator("[data-pane-output]")).to_have_text(stopped.output)
    expect(pane.locator('[data-stat="tokens"]')).to_have_text(f"{stopped.input_tokens} / {stopped.output_tokens}")
    expect(pane.locator('[data-stat="latency"]')).not_to_have_text("–")
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    screenshot(page, "playground-stopped")


def test_a_run_without_enough_credits_says_so(page):
    # given a learner who has spent all their credits
    from game.services import credits_spend

    sign_up(page, "bob")
    bob = User.objects.get(username="bob")
    in_thread(credits_spend, user_id=bob.pk, amount=bob.credits, reason="test.spend", idempotency_key="spend-all")
    expect(page.locator("[data-player-credits]")).to_have_text("0")

    # and models without a configured key are listed but cannot be picked
    expect(page.locator('#model-a option[value="openai:gpt-4o-mini"]')).to_be_disabled()
    expect(page.locator('#model-a option[value="openai:gpt-4o-mini"]')).to_contain_text("(unavailable)")

    # when they run a prompt
    run_free_prompt(page, "What is 2 + 2?", max_tokens=8, model=LOCAL_MODEL)

    # then the pane explains that credits are missing, and nothing was charged
    pane = page.locator("[data-pane]")
    expect(pane).to_have_attribute("data-status", "failed", timeout=RUN_TIMEOUT_MS)
    expect(pane.locator("[data-pane-error]")).to_contain_text("Not enough credits")
    bob.refresh_from_db()
    assert bob.credits == 0


def test_a_dropped_socket_reconnects_and_resumes_without_losing_text(page):
    # given the playground socket goes through a route that records both directions and lets the test cut it
    routes: list[tuple[WebSocketRoute, WebSocketRoute]] = []
    sent: list[dict] = []
    received: list[tuple[int, dict]] = []  # (connection number, frame) as the page got them

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        number = len(routes)

        def to_server(message) -> None:
            sent.append(json.loads(message))
            server.send(message)

        def to_page(message) -> None:
            received.append((number, json.loads(message)))
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)
        routes.append((ws, server))

    page.route_web_socket("**/ws/playground/", route)
    sign_up(page, "cy")

    # when a run is streaming and the connection drops
    run_free_prompt(page, LONG_PROMPT, max_tokens=48, model=LOCAL_MODEL)
    pane = page.locator("[data-pane]")
    expect(page.locator("[data-pane-output]")).not_to_be_empty(timeout=RUN_TIMEOUT_MS)
    client_side, server_side = routes[0]
    server_side.close()
    client_side.close(code=4000, reason="cut by the test")
    had = max(frame["seq"] for number, frame in received if number == 0 and frame["type"] == "run.token")

    # then the page reconnects and asks for what follows the last token it had
    expect(pane).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    run = _run_row(pane.get_attribute("data-run-id"))
    assert run.status == "completed"
    resumes = [message for message in sent if message["type"] == "run.resume"]
    assert resumes == [{"type": "run.resume", "run_id": str(run.id), "after_seq": had}]

    # and the tokens of both connections put together are the whole answer, each once and in order
    tokens = {frame["seq"]: frame["delta"] for _, frame in received if frame["type"] == "run.token"}
    assert sorted(tokens) == list(range(len(tokens)))
    assert "".join(tokens[seq] for seq in sorted(tokens)) == run.output
    assert any(number == 1 and frame["type"] == "run.token" for number, frame in received)
    expect(page.locator("[data-pane-output]")).to_have_text(run.output)
    screenshot(page, "playground-resumed")


def test_two_models_stream_side_by_side(page, fake_openai_server):
    # given a learner with an OpenAI-compatible model and the local model available
    sign_up(page, "dee")
    page.get_by_label("Compare with").select_option(fake_openai_server.model_id)
    page.evaluate(
        """() => {
          window.__both = false;
          window.__timeline = [];
          const outputs = document.querySelector('[data-outputs]');
          new MutationObserver(() => {
            const panes = [...outputs.querySelectorAll('[data-pane]')];
            const lengths = panes.map(p => p.querySelector('[data-pane-output]').textContent.length);
            window.__timeline.push(panes.map((p, i) => p.dataset.status + ':' + lengths[i]).join(' '));
            if (panes.length === 2 && panes.every(p => p.dataset.status === 'streaming'
                && p.querySelector('[data-pane-output]').textContent.length > 0)) window.__both = true;
          }).observe(outputs, {subtree: true, childList: true, characterData: true, attributes: true});
        }"""
    )

    # when they run one prompt on both
    run_free_prompt(page, "Describe the three primary colours.", max_tokens=24, model=LOCAL_MODEL)

    # then two panes stream at the same time and both complete
    panes = page.locator("[data-pane]")
    expect(panes).to_have_count(2)
    for index in range(2):
        expect(panes.nth(index)).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    assert page.evaluate("() => window.__both") is True, page.evaluate("() => window.__timeline")
    expect(panes.nth(1).locator("[data-pane-output]")).to_have_text("".join(fake_openai_server.tokens))
    screenshot(page, "playground-side-by-side")


def test_empty_parameters_leave_each_model_its_own_default(page, fake_openai_server):
    # given a learner comparing the local model with an OpenAI-compatible one
    sign_up(page, "fran")
    local, hosted = registry.model_get(LOCAL_MODEL), registry.model_get(fake_openai_server.model_id)
    assert local.default_temperature != hosted.default_temperature  # else this test shows nothing
    page.get_by_label("Model", exact=True).select_option(LOCAL_MODEL)
    page.get_by_label("Compare with").select_option(fake_openai_server.model_id)
    page.locator("details.params").evaluate("details => { details.open = true; }")

    # then the parameter fields are empty and show both models' defaults
    temperature, max_tokens = page.get_by_label("Temperature"), page.get_by_label("Max tokens")
    expect(temperature).to_have_value("")
    expect(temperature).to_have_attribute(
        "placeholder", f"{local.default_temperature} / {hosted.default_temperature} (default)"
    )
    expect(max_tokens).to_have_attribute(
        "placeholder", f"{local.default_max_tokens} / {hosted.default_max_tokens} (default)"
    )

    # when they run a prompt setting only the maximum length
    page.get_by_label("Prompt", exact=True).fill("What is the opposite of up?")
    max_tokens.fill("8")
    page.get_by_role("button", name="Run", exact=True).click()

    # then each run used its own model's temperature
    panes = page.locator("[data-pane]")
    expect(panes).to_have_count(2)
    for index in range(2):
        expect(panes.nth(index)).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    runs = [_run_row(panes.nth(index).get_attribute("data-run-id")) for index in range(2)]
    assert {run.model: run.params for run in runs} == {
        local.id: {"temperature": local.default_temperature, "max_tokens": 8},
        hosted.id: {"temperature": hosted.default_temperature, "max_tokens": 8},
    }


def test_recent_runs_reopen_into_the_output_pane(page):
    # given a learner with a finished run
    sign_up(page, "eve")
    run_free_prompt(page, "What is the opposite of hot?", max_tokens=8, model=LOCAL_MODEL)
    expect(page.locator("[data-pane]")).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    run_id = page.locator("[data-pane]").get_attribute("data-run-id")

    # when they come back later and open it from the recent runs
    page.reload()
    wait_playground(page)
    page.locator(f'[data-recent-runs] [data-run-id="{run_id}"]').click()

    # then its prompt, output and figures are shown again
    run = _run_row(run_id)
    expect(page.locator("[data-pane-output]")).to_have_text(run.output)
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(run.prompt)
    expect(page.locator('[data-stat="tokens"]')).to_have_text(f"{run.input_tokens} / {run.output_tokens}")


def test_a_provider_failure_is_explained_in_the_pane(fake_openai_server, page):
    # given an OpenAI-compatible server that answers every request with a server error
    fake_openai_server.server.script(status=503)
    sign_up(page, "fin")

    # when the learner runs a prompt on it
    run_free_prompt(page, "Name a colour.", max_tokens=8, model=fake_openai_server.model_id)

    # then the pane says the provider is unavailable, and the run cost nothing
    pane = page.locator("[data-pane]")
    expect(pane).to_have_attribute("data-status", "failed", timeout=RUN_TIMEOUT_MS)
    expect(pane.locator("[data-pane-error]")).to_have_text(
        "The model provider is unavailable right now. Try again shortly or pick another model."
    )
    fin = User.objects.get(username="fin")
    expect(page.locator("[data-player-credits]")).to_have_text(f"{fin.credits:,}")
    assert fin.credits == 100
    screenshot(page, "playground-provider-error")


@pytest.mark.parametrize("server_env", [{"THROTTLE_AI_REQUESTS": "1/hour"}])
def test_a_rate_limited_run_says_when_to_try_again(page):
    # given a learner allowed one run an hour, who has had it
    sign_up(page, "gil")
    run_free_prompt(page, "What is the opposite of up?", max_tokens=4, model=LOCAL_MODEL)
    expect(page.locator("[data-pane]")).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)

    # when they run again
    page.get_by_role("button", name="Run", exact=True).click()

    # then the pane says they are going too fast and when to come back
    pane = page.locator("[data-pane]")
    expect(pane).to_have_attribute("data-status", "failed", timeout=RUN_TIMEOUT_MS)
    expect(pane.locator("[data-pane-error]")).to_have_text(
        re.compile(r"^You are sending requests too quickly\. Try again in \d+ seconds?\.$")
    )


def test_a_run_left_by_a_reload_is_followed_again_from_the_recent_runs(page):
    # given a learner whose long run is streaming
    sign_up(page, "ida")
    run_free_prompt(page, LONG_PROMPT, max_tokens=200, model=LOCAL_MODEL)
    expect(page.locator("[data-pane-output]")).not_to_be_empty(timeout=RUN_TIMEOUT_MS)
    run_id = page.locator("[data-pane]").get_attribute("data-run-id")

    # when they reload the page and open the run, still going, from the recent runs
    page.reload()
    wait_playground(page)
    entry = page.locator(f'[data-recent-runs] [data-run-id="{run_id}"]')
    expect(entry.locator(".status")).to_have_text("running")
    entry.click()

    # then the page replays it from the start and follows it to the end, with every token once
    pane = page.locator("[data-pane]")
    expect(pane).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    run = _run_row(run_id)
    assert run.status == "completed"
    expect(page.locator("[data-pane-output]")).to_have_text(run.output)
