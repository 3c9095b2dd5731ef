"""Browser suite: Debian's Chromium driven by Playwright against a live daphne with PostgreSQL and Redis."""

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from tests.browser.support import SCREENSHOT_DIR, StaticSite
from tests.fakes import FakeLLMServer
from tests.fakes import fake_openai_server as fake_openai_server_factory

CHROMIUM = "/usr/bin/chromium"
# Live updates cross processes (daphne, Redis, the model): give assertions room on a busy machine.
expect.set_options(timeout=15_000)
# The embedding sites get names of their own so that only WIDGET_ALLOWED_ORIGINS can let them in
# (127.0.0.1 and localhost are the app's own hosts).
ALLOWED_SITE_HOST = "blog.test"
REFUSED_SITE_HOST = "elsewhere.test"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop in this thread, which Django takes for an async
    # context; the ORM calls of these (synchronous) tests and their database teardown are safe.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _chromium()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


def _chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's package (apt-get install chromium).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--host-resolver-rules=MAP *.test 127.0.0.1",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def log_dir(request) -> Path:
    """Server logs of browser tests are kept under test-output/ next to the screenshots."""
    path = SCREENSHOT_DIR / "logs" / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def other_site() -> Iterator[StaticSite]:
    site = StaticSite().start()
    try:
        yield site
    finally:
        site.stop()


@dataclass
class FakeOpenAI:
    server: FakeLLMServer
    tokens: list[str]
    model_id: str = "openai:gpt-4o-mini"


@pytest.fixture
def fake_openai_server() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server streaming a known answer slowly (so that two runs overlap)."""
    text = "Red, blue and yellow are the primary colours of paint: mixing two of them gives orange, green or purple."
    tokens = [f" {word}" if i else word for i, word in enumerate(text.split(" "))]
    server = fake_openai_server_factory().start()
    # About 10 s of streaming from 0.5 s on: the local model's answer (its model loads first) falls inside.
    server.script(tokens=tokens, delay=0.5)
    try:
        yield FakeOpenAI(server=server, tokens=tokens)
    finally:
        server.stop()


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra environment for the server process (a test overrides it with `parametrize`)."""
    return {}


@pytest.fixture
def server(request, daphne, other_site, transactional_db, server_env):
    """A live daphne serving the app; pages on the 'blog.test' site may embed the leaderboard widget."""
    env = {
        "WIDGET_ALLOWED_ORIGINS": other_site.origin(ALLOWED_SITE_HOST),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        **server_env,
    }
    if "fake_openai_server" in request.fixturenames:
        fake = request.getfixturevalue("fake_openai_server")
        env.update(OPENAI_BASE_URL=f"{fake.server.url}/v1", OPENAI_API_KEY="sk-test")
    return daphne(**env)


@pytest.fixture
def new_context(browser: Browser, server) -> Iterator:
    """Factory of isolated browser contexts (one per user) on the live server; JS errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make() -> BrowserContext:
        context = browser.new_context(base_url=server.http_url, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(30_000)
        context.on("page", lambda page: page.on("pageerror", lambda exc: errors.append(str(exc))))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors in the pages: {errors}"


@pytest.fixture
def page(new_context):
    return new_context().new_page()
