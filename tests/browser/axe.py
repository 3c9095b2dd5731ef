"""axe-core in a page: the engine comes from npm (package.json, `npm ci`) and is served by the test
settings at /static/axe-core/axe.min.js; only serious and critical violations count."""

from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import REPO_ROOT

AXE_FILE: Path = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/static/axe-core/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
      nodes: v.nodes.slice(0, 6).map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 160),
        why: (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 300)}))}));
}"""


def serious_violations(page: Page) -> list[dict]:
    """axe's serious and critical violations on the page as it is now (rule, help, the first nodes)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_URL)
    return page.evaluate(AXE_RUN, AXE_TAGS)
