"""Every page of tests/browser/pages.py, in the light and the dark theme: axe-core finds no serious or
critical violation, a 390 px phone shows it without horizontal scrolling and with 44 px touch targets;
the theme picker's choice survives a reload, 'system' follows the system, the charts follow the theme.

One daphne, one browser and one signed-in context per theme and form factor serve the whole module
(its data is made once and flushed at the end, as a transactional test's would be).
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.axe import AXE_FILE, serious_violations
from tests.browser.pages import PAGES, SitePage
from tests.browser.support import SCREENSHOT_DIR, in_thread, screenshot
from tests.support import processes

# The mark makes pytest-django create the test database; the module's data is made by `site` (and
# committed, for the server process to see), each test's own transaction only wraps nothing.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

THEMES = ["light", "dark"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1360, "height": 900}
MIN_TARGET = 44
USERNAME = "audrey"

# Elements wider than the viewport (the deepest ones), to say what makes a page scroll sideways.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 1);
  return wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)))
    .slice(0, 8)
    .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
      + ` ends at ${Math.round(el.getBoundingClientRect().right)}`);
}"""

# Visible controls smaller than 44 x 44 CSS px. A checkbox or radio is measured with its label (the
# label is its target). Exempt, as WCAG 2.5.8 allows: links inline in a sentence (an inline <a>
# with other text beside it in its nearest block).
SMALL_TARGETS = """(min) => {
  const width = document.documentElement.clientWidth;
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], '
    + '[tabindex]:not([tabindex="-1"])';
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    return Boolean(block) && block.textContent.replace(el.textContent, '').trim().length > 0;
  };
  const small = [];
  for (const el of document.querySelectorAll(controls)) {
    if (el.closest('[aria-hidden="true"], [inert]') || el.disabled && el.type === 'hidden') continue;
    const target = (el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length ? el.labels[0] : el;
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(target);
    // not rendered, or visually hidden
    if (box.width <= 1 || box.height <= 1 || style.visibility !== 'visible') continue;
    if (box.right <= 0 || box.left >= width) continue;  // off screen until focused (the skip link)
    if (inSentence(el)) continue;
    if (box.width + 0.5 < min || box.height + 0.5 < min) {
      const name = (el.getAttribute('aria-label') || el.textContent || el.name || el.id || '').trim().slice(0, 40);
      small.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""

# Every custom property of app.css's :root, as computed on <html>.
THEME_VARIABLES = """() => {
  const names = new Set();
  for (const sheet of document.styleSheets) {
    for (const rule of sheet.cssRules) {
      const rules = rule.cssRules ? [...rule.cssRules] : [rule];
      for (const inner of rules) {
        if (inner.style) for (const name of inner.style) if (name.startsWith('--')) names.add(name);
      }
    }
  }
  const style = getComputedStyle(document.documentElement);
  return Object.fromEntries([...names].sort().map((name) => [name, style.getPropertyValue(name).trim()]));
}"""

# Records <html data-theme> and the page background when <body> is first parsed, before any paint.
AT_FIRST_PAINT = """
new MutationObserver((_, observer) => {
  if (!document.body) return;
  observer.disconnect();
  window.__themeAtBody = document.documentElement.getAttribute('data-theme');
  window.__bgAtBody = getComputedStyle(document.documentElement).backgroundColor;
}).observe(document, {childList: true, subtree: true});
"""


@dataclass
class Site:
    server: processes.DaphneServer
    paths: dict[str, str]
    mint_session: Callable[[], str]  # a new session (refresh token) of the learner
    contexts: dict[tuple, BrowserContext] = field(default_factory=dict)


def _learner():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=USERNAME,
        email=f"{USERNAME}@example.com",
        password="Str0ng-pass-phrase!",
        first_name="Audrey",
        email_verified=True,
        is_staff=True,
    )


def _refresh_token(*, user_id) -> str:
    from django.contrib.auth import get_user_model

    from accounts.services import token_pair_issue

    return token_pair_issue(user=get_user_model().objects.get(pk=user_id)).refresh


def _flush() -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("flush", interactive=False, verbosity=0)
    connection.close_pool()


@pytest.fixture(scope="module")
def site(browser: Browser, django_db_setup, django_db_blocker) -> Iterator[Site]:
    if not AXE_FILE.exists():
        pytest.fail(f"{AXE_FILE} is missing: `make install-dev` runs `npm ci` (package-lock.json pins axe-core).")
    log_dir = SCREENSHOT_DIR / "logs" / "test_audit"
    log_dir.mkdir(parents=True, exist_ok=True)

    def mint_session() -> str:
        with django_db_blocker.unblock():
            return in_thread(_refresh_token, user_id=user.pk)

    try:  # the data is made outside any test's transaction: flushed below whatever happens
        with django_db_blocker.unblock():
            user = in_thread(_learner)
            values = {page.name: in_thread(page.setup, user=user) if page.setup else {} for page in PAGES}
        paths = {page.name: page.path.format(**values[page.name]) for page in PAGES}
        env = {"DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
        with processes.daphne_server(log_dir, **env) as server:
            site = Site(server=server, paths=paths, mint_session=mint_session)
            try:
                yield site
            finally:
                for context in site.contexts.values():
                    context.close()
    finally:
        with django_db_blocker.unblock():
            in_thread(_flush)
            # The tests' own (empty) transactions leave this thread's pooled connection open, which
            # would keep the test database busy when pytest drops it.
            connection.close()
            connection.close_pool()


def new_context(browser: Browser, site: Site, *, theme: str, guest: bool, phone: bool) -> BrowserContext:
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {"viewport": DESKTOP}
    context = browser.new_context(base_url=site.server.http_url, color_scheme=theme, reduced_motion="reduce", **options)
    context.set_default_timeout(30_000)
    if not guest:
        cookie = {"name": "pc_refresh", "value": site.mint_session(), "url": f"{site.server.http_url}/session/"}
        context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Strict"}])
    return context


@pytest.fixture
def visit(browser: Browser, site: Site) -> Iterator:
    """visit(page, theme, phone=False): a new tab on that page, drawn, in the module's shared context."""
    opened: list[tuple[Page, list[str]]] = []

    def open_page(spec: SitePage, theme: str, *, phone: bool = False) -> Page:
        key = (theme, spec.guest, phone)
        if key not in site.contexts:
            site.contexts[key] = new_context(browser, site, theme=theme, guest=spec.guest, phone=phone)
        page = site.contexts[key].new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.append((page, errors))
        page.goto(site.paths[spec.name])
        expect(page.locator(spec.ready_selector).first).to_be_attached()
        return page

    yield open_page
    for page, errors in opened:
        page.close()
        assert errors == [], f"uncaught errors in {page.url}: {errors}"


def _params():
    return [pytest.param(page, theme, id=f"{page.name}-{theme}") for page in PAGES for theme in THEMES]


@pytest.mark.parametrize(("spec", "theme"), _params())
def test_axe_finds_no_serious_violation(visit, spec: SitePage, theme: str):
    page = visit(spec, theme)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    violations = serious_violations(page)
    page.screenshot(path=str(SCREENSHOT_DIR / f"desktop-{spec.name}-{theme}.png"), animations="disabled")
    assert violations == [], f"{spec.path} ({theme}):\n" + json.dumps(violations, indent=2)


@pytest.mark.parametrize(("spec", "theme"), _params())
def test_a_phone_shows_the_page_without_sideways_scrolling_and_with_44px_targets(visit, spec: SitePage, theme: str):
    page = visit(spec, theme, phone=True)
    screenshot(page, f"phone-{spec.name}-{theme}")
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sizes[1] == PHONE["width"]
    assert sizes[0] <= sizes[1], f"{page.url} scrolls sideways: {page.evaluate(OVERFLOWING)}"
    assert page.evaluate(SMALL_TARGETS, MIN_TARGET) == [], page.url


def _background(page: Page) -> str:
    return page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")


LIGHT_BG = "rgb(246, 247, 251)"
DARK_BG = "rgb(14, 18, 32)"


def test_the_theme_choice_survives_a_reload_and_system_follows_the_system(browser: Browser, site: Site):
    # given a visitor whose system is dark, on a page that has not stored any choice
    context = new_context(browser, site, theme="dark", guest=True, phone=False)
    context.add_init_script(AT_FIRST_PAINT)
    page = context.new_page()
    page.goto("/leaderboard/")
    picker = page.get_by_label("Theme")
    expect(picker).to_have_value("system")
    assert page.evaluate("() => document.documentElement.dataset.theme") is None
    assert _background(page) == DARK_BG
    system_dark = page.evaluate(THEME_VARIABLES)

    # when they pick the light theme (with the keyboard) and reload
    picker.focus()
    picker.select_option("light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert _background(page) == LIGHT_BG
    page.reload()

    # then the page is light from its first paint on, and the picker says so
    assert page.evaluate("() => [window.__themeAtBody, window.__bgAtBody]") == ["light", LIGHT_BG]
    expect(picker).to_have_value("light")
    assert page.evaluate("() => localStorage.getItem('promptcraft-theme')") == "light"

    # when they choose dark while the system turns light, the dark colours are those of a dark system
    page.emulate_media(color_scheme="light")
    picker.select_option("dark")
    assert _background(page) == DARK_BG
    assert page.evaluate(THEME_VARIABLES) == system_dark  # both of app.css's dark rule sets agree

    # when they go back to 'system', the page follows the system as it changes
    picker.select_option("system")
    expect(page.locator("html")).not_to_have_attribute("data-theme", "system")
    stored = "() => [document.documentElement.dataset.theme, localStorage.getItem('promptcraft-theme')]"
    assert page.evaluate(stored) == [None, None]
    assert _background(page) == LIGHT_BG
    page.emulate_media(color_scheme="dark")
    assert _background(page) == DARK_BG

    # and another tab of the site follows a choice made in this one
    other = context.new_page()
    other.goto("/login/")
    picker.select_option("light")
    expect(other.locator("html")).to_have_attribute("data-theme", "light")
    context.close()


def test_the_charts_and_the_widget_take_their_colours_from_the_theme(browser: Browser, site: Site):
    # given the learner's profile, whose charts are drawn, in a dark system
    context = new_context(browser, site, theme="dark", guest=False, phone=False)
    page = context.new_page()
    page.goto("/profile/")
    expect(page.locator("body[data-profile-ready='true']")).to_be_attached()
    expect(page.locator("[data-chart] canvas").first).to_be_attached()
    colours = """() => {
      const chart = Object.values(Chart.instances)[0];
      const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
      return {ticks: chart.scales.x.options.ticks.color, grid: chart.scales.y.options.grid.color,
              series: chart.data.datasets[0].backgroundColor,
              muted: css('--muted'), line: css('--chart-grid'), first: css('--chart-1')};
    }"""

    # then ticks, grid lines and the first series use the dark theme's variables
    dark = page.evaluate(colours)
    assert (dark["ticks"], dark["grid"], dark["series"]) == (dark["muted"], dark["line"], dark["first"])
    assert dark["muted"] == "#a6adbf"

    # when the learner picks the light theme, the charts are repainted in its colours
    page.get_by_label("Theme").select_option("light")
    light = page.evaluate(colours)
    assert (light["ticks"], light["grid"], light["series"]) == (light["muted"], light["line"], light["first"])
    assert light["muted"] == "#545b6b"

    # and the embeddable widget, which has no picker, follows the system's dark preference
    page.goto("/widgets/leaderboard/")
    box = page.locator("section.lb")
    expect(box).to_be_attached()
    assert box.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(23, 28, 43)"
    page.emulate_media(color_scheme="light")
    assert box.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
    context.close()


@pytest.mark.parametrize("theme", THEMES)
def test_form_errors_pass_the_audit(visit, theme: str):
    # given the log-in page, when the learner leaves the fields empty and then gives a wrong password
    page = visit(next(spec for spec in PAGES if spec.name == "login"), theme)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-error-for='password']")).not_to_be_empty()
    page.get_by_label("Username or email").fill(USERNAME)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()

    # then the error banner and the invalid fields are readable in this theme
    assert serious_violations(page) == [], theme
    screenshot(page, f"desktop-login-error-{theme}")


def test_the_audit_reports_what_it_looks_for(visit):
    # given a page with a paragraph planted in grey on grey (a serious colour-contrast violation)
    page = visit(next(spec for spec in PAGES if spec.name == "login"), "dark")
    page.evaluate("""() => {
      const p = Object.assign(document.createElement('p'), {textContent: 'Barely readable'});
      p.style.cssText = 'color: #777; background: #888';
      document.querySelector('main').append(p);
    }""")

    # when axe runs as on every page, it reports it
    violations = serious_violations(page)
    assert [(v["id"], v["impact"]) for v in violations] == [("color-contrast", "serious")]
    assert violations[0]["nodes"][0]["html"].endswith(">Barely readable</p>")
