"""Browser-test support: a second-origin static site, page actions, screenshots."""

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import Page, expect

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-output" / "browser"
PASSWORD = "Str0ng-pass-phrase!"
TIMEOUT_MS = 30_000
# The local model's first answer includes loading it into the server process.
RUN_TIMEOUT_MS = 120_000
# A prompt the local model answers at length (hundreds of tokens at temperature 0): time to act mid-run.
LONG_PROMPT = "Write a very long essay about the history of painting, with many chapters."
# The challenges' model: the fake OpenAI server (the `fake_openai_server` fixture) answers it.
CHALLENGE_MODEL = "openai:gpt-4o-mini"
# Strings that exist only in the hidden cases of `builtin_challenge`: none may ever reach the browser.
HIDDEN_INPUT = "HIDDEN-INPUT-zq81"
HIDDEN_VALUE = "HIDDEN-VALUE-zq82"
HIDDEN_PATTERN = "HIDDEN-PATTERN-zq83"
HIDDEN_MARKERS = ("HIDDEN-", "zq81", "zq82", "zq83")


class StaticSite:
    """A tiny HTTP server on another loopback port: the 'other site' that embeds the widget."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def start(self) -> "StaticSite":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def in_thread(function: Callable[..., T], /, **kwargs) -> T:
    """Call a service from a fresh thread: Playwright's event loop lives in the test's thread, and
    services that broadcast on commit need a thread without one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_closing_connection, function, kwargs).result(timeout=60)


def _closing_connection(function, kwargs):
    from django.db import connection

    try:
        return function(**kwargs)
    finally:
        connection.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def sign_up(page: Page, username: str, *, verified: bool = True) -> None:
    """Register through the sign-up page; ends on the playground with the header live.

    The new account's email is then verified (as by its emailed link) unless `verified=False`, so
    the tests that spend credits spend them like any verified learner.
    """
    page.goto("/signup/")
    page.get_by_label("First name").fill("Test")
    page.get_by_label("Last name").fill("Learner")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/$"))
    wait_playground(page)
    if verified:
        in_thread(_email_verify, username=username)


def _email_verify(*, username: str) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username=username).update(email_verified=True)


def log_in(page: Page, username: str, next_path: str = "/") -> None:
    page.goto(f"/login/?next={next_path}")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def wait_playground(page: Page) -> None:
    expect(page.locator("body[data-playground-ready='true']")).to_be_attached(timeout=TIMEOUT_MS)
    expect(page.locator("[data-player]")).to_be_visible()


def watch_output_growth(page: Page) -> None:
    """Record every length the first output pane's text takes while it streams."""
    page.evaluate(
        """() => {
          window.__growth = [];
          const outputs = document.querySelector('[data-outputs]');
          new MutationObserver(() => {
            const out = outputs.querySelector('[data-pane-output]');
            if (!out) return;
            const n = out.textContent.length;
            if (window.__growth[window.__growth.length - 1] !== n) window.__growth.push(n);
          }).observe(outputs, {subtree: true, childList: true, characterData: true});
        }"""
    )


def output_growth(page: Page) -> list[int]:
    return page.evaluate("() => window.__growth")


def set_params(page: Page, *, max_tokens: int, temperature: float = 0) -> None:
    """Fill the playground's parameters (temperature 0 by default: the local model's answer is then fixed)."""
    page.locator("details.params").evaluate("details => { details.open = true; }")
    page.get_by_label("Max tokens").fill(str(max_tokens))
    page.get_by_label("Temperature").fill(str(temperature))


def run_free_prompt(page: Page, prompt: str, *, max_tokens: int, model: str | None = None) -> None:
    page.get_by_label("Free prompt").check()
    page.get_by_label("Prompt", exact=True).fill(prompt)
    if model:
        page.get_by_label("Model", exact=True).select_option(model)
    set_params(page, max_tokens=max_tokens)
    page.get_by_role("button", name="Run", exact=True).click()


def challenge_document(**overrides) -> dict:
    """A challenge on the fake OpenAI model, with two public and two hidden cases."""
    return {
        "slug": "sentiment-one-word",
        "title": "Sentiment in one word",
        "summary": "Classify a review as positive or negative, in one word.",
        "brief": "# Classification\n\nName the labels you want.\n\n## Task\nClassify **{{review}}**.",
        "track": "foundations",
        "technique": "classification",
        "difficulty": "beginner",
        "cases": [
            {"input": {"review": "I loved it"}, "checks": [{"type": "icontains", "value": "positive"}]},
            {
                "input": {"review": "Great fun for everyone"},
                "checks": [{"type": "icontains", "value": "positive"}, {"type": "word-count", "max": 5}],
            },
            {
                "input": {"review": HIDDEN_INPUT},
                "checks": [{"type": "contains-any", "value": ["ositive", HIDDEN_VALUE]}],
                "hidden": True,
            },
            {
                "input": {"review": f"{HIDDEN_INPUT} again"},
                "checks": [{"type": "regex", "value": f"positive|{HIDDEN_PATTERN}", "flags": "i"}],
                "hidden": True,
            },
        ],
        "par_tokens": 40,
        "models": [CHALLENGE_MODEL],
        "default_model": CHALLENGE_MODEL,
        "params": {"temperature": 0, "max_tokens": 64},
        "hints": ["Say which labels are allowed."],
        **overrides,
    }


def builtin_challenge(**overrides):
    """A public (built-in) challenge from `challenge_document`."""
    from challenges.services import challenge_builtin_upsert

    return challenge_builtin_upsert(document=challenge_document(**overrides))[0]


def private_challenge(author, **overrides):
    """A challenge of `author`'s own, still private."""
    from challenges import documents, services

    checked = documents.ChallengeDocumentSerializer(data=challenge_document(**overrides))
    checked.is_valid(raise_exception=True)
    return services.challenge_create(author=author, document=checked.validated_data)
